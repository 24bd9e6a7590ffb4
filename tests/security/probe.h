// The heap-bug probes' shared frame. A probe commits one bug, then goes on using the
// heap as a program would; if it gets that far it prints NOT_CAUGHT. Being stopped by
// a signal or by the allocator's abort counts as caught.
//
// Usage: <family> <probe> <size>   (size: the block size the bug is committed at)
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Hides a pointer from the compiler, so that it neither diagnoses nor removes the bug.
static inline void* opaque(void* p) {
  void* volatile v = p;
  return v;
}

static inline void not_caught(void) {
  printf("NOT_CAUGHT\n");
  fflush(stdout);
  exit(0);
}

// The heap going on after the bug: blocks of the same size handed out and written, so
// that a corrupted free list or a block handed out twice shows.
static inline void keep_going(size_t size) {
  void* p[16];
  for (int i = 0; i < 16; ++i) {
    p[i] = malloc(size);
    if (p[i] != NULL) memset(p[i], i, size < 64 ? size : 64);
  }
  for (int i = 0; i < 16; ++i) free(p[i]);
}

// Long enough a run of malloc/free of one size that a block freed before it is handed
// out again even by an allocator that delays reuse.
static inline void churn(size_t size) {
  for (int i = 0; i < 2048; ++i) {
    char* p = (char*)malloc(size);
    if (p != NULL) p[0] = 1;
    free(p);
  }
}

typedef void (*probe_fn)(size_t size);
struct probe {
  const char* name;
  probe_fn run;
};

static inline int run_probe(const struct probe* probes, int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s PROBE SIZE\n", argv[0]);
    return 2;
  }
  size_t size = strtoull(argv[2], NULL, 10);
  for (const struct probe* p = probes; p->name != NULL; ++p)
    if (strcmp(p->name, argv[1]) == 0) {
      p->run(size);
      not_caught();
    }
  fprintf(stderr, "%s: no probe %s\n", argv[0], argv[1]);
  return 2;
}
