// Writes past either end of a block: 1 byte, 32 bytes, 1 MiB; by a loop or by memcpy.
// The block is then freed and the heap used on.
#include "probe.h"

static char source[(1 << 20) + 64];

static void write_at(char* a, ptrdiff_t from, size_t count, int use_memcpy) {
  if (use_memcpy)
    memcpy(opaque(a + from), source, count);
  else
    for (size_t i = 0; i < count; ++i) ((char volatile*)a)[from + (ptrdiff_t)i] = 'A';
}

static void overflow(size_t n, size_t count, int use_memcpy) {
  char* neighbours[4];
  for (int i = 0; i < 4; ++i) neighbours[i] = malloc(n);
  char* a = malloc(n);
  char* b = malloc(n);
  write_at(a, (ptrdiff_t)n, count, use_memcpy);
  free(a);
  free(b);
  for (int i = 0; i < 4; ++i) free(neighbours[i]);
  keep_going(n);
}

static void underflow(size_t n, size_t count, int use_memcpy) {
  char* a = malloc(n);
  char* b = malloc(n);
  write_at(b, -(ptrdiff_t)count, count, use_memcpy);
  free(b);
  free(a);
  keep_going(n);
}

static void over_1(size_t n) {
  overflow(n, 1, 0);
}
static void over_32(size_t n) {
  overflow(n, 32, 0);
}
static void over_1m(size_t n) {
  overflow(n, 1 << 20, 0);
}
static void over_1_memcpy(size_t n) {
  overflow(n, 1, 1);
}
static void over_32_memcpy(size_t n) {
  overflow(n, 32, 1);
}
static void over_1m_memcpy(size_t n) {
  overflow(n, 1 << 20, 1);
}
static void under_1(size_t n) {
  underflow(n, 1, 0);
}
static void under_32(size_t n) {
  underflow(n, 32, 0);
}
static void under_1_memcpy(size_t n) {
  underflow(n, 1, 1);
}
static void under_32_memcpy(size_t n) {
  underflow(n, 32, 1);
}

int main(int argc, char** argv) {
  static const struct probe probes[] = {{"over_1", over_1},
                                        {"over_32", over_32},
                                        {"over_1m", over_1m},
                                        {"over_1_memcpy", over_1_memcpy},
                                        {"over_32_memcpy", over_32_memcpy},
                                        {"over_1m_memcpy", over_1m_memcpy},
                                        {"under_1", under_1},
                                        {"under_32", under_32},
                                        {"under_1_memcpy", under_1_memcpy},
                                        {"under_32_memcpy", under_32_memcpy},
                                        {NULL, NULL}};
  return run_probe(probes, argc, argv);
}
