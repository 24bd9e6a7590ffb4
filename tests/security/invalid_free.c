// Invalid frees and reallocs: pointers that are not the start of a live block.
#include <sys/mman.h>

#include "probe.h"

static char static_buffer[1 << 19];

static void stack(size_t n) {
  char local[64];
  (void)n;
  free(opaque(local + 16));
  keep_going(n);
}

static void static_data(size_t n) {
  free(opaque(static_buffer + 4096));
  keep_going(n);
}

// Inside a live block, 16-byte aligned (8 for the smallest).
static void interior(size_t n) {
  char* a = malloc(n);
  free(opaque(a + (n >= 32 ? 16 : 8)));
  keep_going(n);
}

static void unaligned(size_t n) {
  char* a = malloc(n);
  free(opaque(a + 1));
  keep_going(n);
}

// An address 1 TiB away from a block: nobody's memory.
static void far_away(size_t n) {
  char* a = malloc(n);
  free(opaque(a + ((size_t)1 << 40)));
  keep_going(n);
}

// Memory of another allocator: a private mapping with a block header in front.
static void foreign(size_t n) {
  size_t len = n + 4096;
  char* m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ((size_t*)m)[1] = n | 1;  // what a chunk header might look like
  free(opaque(m + 16));
  keep_going(n);
}

static void realloc_freed(size_t n) {
  char* a = malloc(n);
  free(a);
  free(realloc(opaque(a), 2 * n));
  keep_going(n);
}

static void realloc_interior(size_t n) {
  char* a = malloc(n);
  free(realloc(opaque(a + (n >= 32 ? 16 : 8)), 2 * n));
  keep_going(n);
}

static void realloc_foreign(size_t n) {
  free(realloc(opaque(static_buffer + 4096), 2 * n));
  keep_going(n);
}

int main(int argc, char** argv) {
  static const struct probe probes[] = {{"stack", stack},
                                        {"static", static_data},
                                        {"interior", interior},
                                        {"unaligned", unaligned},
                                        {"far", far_away},
                                        {"foreign", foreign},
                                        {"realloc_freed", realloc_freed},
                                        {"realloc_interior", realloc_interior},
                                        {"realloc_foreign", realloc_foreign},
                                        {NULL, NULL}};
  return run_probe(probes, argc, argv);
}
