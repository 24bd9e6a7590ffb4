// The workload scripts/fastpath.sh counts instructions of under callgrind: malloc+free
// of one size, as immediate pairs or as batches of 100 mallocs then 100 frees.
// Usage: fastpath pair|batch SIZE ITERATIONS   (ITERATIONS counts malloc+free pairs)
// Built with -fno-builtin and every pointer stored to a volatile sink, so the compiler
// can neither elide nor merge the calls.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kBatch = 100 };

static void* volatile sink;

// noinline: the loops stay the same shape whatever the allocator, so the per-pair
// figure includes exactly one call to malloc and one to free plus the loop step.
__attribute__((noinline)) static void pairs(size_t size, long n) {
  for (long i = 0; i < n; ++i) {
    void* p = malloc(size);
    sink = p;
    free(p);
  }
}

__attribute__((noinline)) static void batches(size_t size, long n) {
  void* ptrs[kBatch];
  for (long done = 0; done < n; done += kBatch) {
    for (int i = 0; i < kBatch; ++i) {
      ptrs[i] = malloc(size);
      sink = ptrs[i];
    }
    for (int i = 0; i < kBatch; ++i) free(ptrs[i]);
  }
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s pair|batch SIZE ITERATIONS\n", argv[0]);
    return 2;
  }
  size_t size = strtoul(argv[2], NULL, 10);
  long n = strtol(argv[3], NULL, 10);
  // Warm up: the first allocations of a size create pages and thread state; the
  // N / 2N difference cancels this anyway, but keep both runs on the same footing.
  batches(size, 10 * kBatch);
  if (strcmp(argv[1], "pair") == 0) {
    pairs(size, n);
  } else if (strcmp(argv[1], "batch") == 0) {
    if (n % kBatch != 0) {
      fprintf(stderr, "batch ITERATIONS must be a multiple of %d\n", kBatch);
      return 2;
    }
    batches(size, n);
  } else {
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
  }
  return 0;
}
