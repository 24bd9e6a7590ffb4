// Impossible sizes, malloc(0) used as memory, an executable heap.
#include <errno.h>
#include <stdint.h>

#include "probe.h"

static void malloc0_write(size_t n) {
  (void)n;
  char* p = malloc(0);
  memset(opaque(p), 'A', 8);
  free(p);
  keep_going(16);
}

static void malloc0_read(size_t n) {
  (void)n;
  char* p = malloc(0);
  volatile char c = ((char volatile*)opaque(p))[0];
  (void)c;
  free(p);
  keep_going(16);
}

// Sizes no machine can serve: caught when the call fails with ENOMEM.
static void check_null(void* p) {
  if (p != NULL || errno != ENOMEM) not_caught();
  exit(0);
}
static void huge_malloc(size_t n) {
  check_null(malloc(SIZE_MAX - n));
}
static void huge_half(size_t n) {
  check_null(malloc(PTRDIFF_MAX - n));
}
static void calloc_overflow(size_t n) {
  check_null(calloc(SIZE_MAX / n + 2, n));
}
static void huge_realloc(size_t n) {
  void* p = malloc(n);
  check_null(realloc(p, SIZE_MAX - n));
}
static void huge_aligned(size_t n) {
  void* p = NULL;
  int rc = posix_memalign(&p, 4096, SIZE_MAX - n);
  if (rc != ENOMEM || p != NULL) not_caught();
  exit(0);
}

// Heap memory must not be executable: a `ret` written there and called must fault.
static void exec_heap(size_t n) {
  unsigned char* p = malloc(n);
  p[0] = 0xC3;  // ret
  void (*fn)(void) = (void (*)(void))opaque(p);
  fn();
}

int main(int argc, char** argv) {
  static const struct probe probes[] = {{"malloc0_write", malloc0_write},
                                        {"malloc0_read", malloc0_read},
                                        {"huge_malloc", huge_malloc},
                                        {"huge_half", huge_half},
                                        {"calloc_overflow", calloc_overflow},
                                        {"huge_realloc", huge_realloc},
                                        {"huge_aligned", huge_aligned},
                                        {"exec_heap", exec_heap},
                                        {NULL, NULL}};
  return run_probe(probes, argc, argv);
}
