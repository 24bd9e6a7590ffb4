// Freed memory used: written, zeroed or read after free, and reuse that makes it easy.
// A write is caught when it is reported, at the latest when the block is reused.
#include "probe.h"

static void write_after_free(size_t n) {
  char* a = malloc(n);
  free(a);
  memset(opaque(a), 'A', n < 64 ? n : 64);
  churn(n);
}

// Zeroing the first words of a freed block (a cleared free-list link).
static void zero_after_free(size_t n) {
  char* a = malloc(n);
  free(a);
  memset(opaque(a), 0, n < 16 ? n : 16);
  churn(n);
}

// Writing far into a freed block, past where the allocator keeps its links.
static void write_tail_after_free(size_t n) {
  char* a = malloc(n);
  free(a);
  ((char volatile*)opaque(a))[n - 1] = 'A';
  churn(n);
}

static void read_after_free(size_t n) {
  char* a = malloc(n);
  memset(a, 'x', n);
  free(a);
  // Caught when the old contents are gone (or the read faults).
  if (((char volatile*)opaque(a))[n / 2] != 'x') exit(0);
}

// The next malloc of the same size returns the block just freed.
static void reuse_immediate(size_t n) {
  char* a = malloc(n);
  free(a);
  char* b = malloc(n);
  if (b != a) exit(0);  // not reused: caught
}

// A smaller request returns the block just freed.
static void reuse_smaller(size_t n) {
  char* a = malloc(n);
  free(a);
  char* b = malloc(n / 2 + 1);
  if (b != a) exit(0);
}

int main(int argc, char** argv) {
  static const struct probe probes[] = {{"write", write_after_free},
                                        {"zero", zero_after_free},
                                        {"write_tail", write_tail_after_free},
                                        {"read", read_after_free},
                                        {"reuse_immediate", reuse_immediate},
                                        {"reuse_smaller", reuse_smaller},
                                        {NULL, NULL}};
  return run_probe(probes, argc, argv);
}
