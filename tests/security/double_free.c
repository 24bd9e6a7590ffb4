// Double frees: the same block freed twice, in every shape a program manages it.
#include <pthread.h>

#include "probe.h"

static void immediate(size_t n) {
  char* a = malloc(n);
  free(a);
  free(opaque(a));
  keep_going(n);
}

// free(a); free(b); free(a): the freed block is no longer the last one freed.
static void interleaved(size_t n) {
  char *a = malloc(n), *b = malloc(n);
  free(a);
  free(b);
  free(opaque(a));
  keep_going(n);
}

// The block is handed out again and freed by its new user; then the old pointer.
static void after_reuse(size_t n) {
  char* a = malloc(n);
  free(a);
  char* b = malloc(n);
  free(b);
  free(opaque(a));
  keep_going(n);
}

// realloc moved the block; the old pointer is freed.
static void after_realloc(size_t n) {
  char* a = malloc(n);
  char* b = realloc(a, 4 * n + 4096);
  if (b == a) not_caught();  // grew in place: nothing to probe
  free(opaque(a));
  free(b);
  keep_going(n);
}

// Many blocks in between, so that the block's page is no longer the one being used.
static void after_many(size_t n) {
  char* a = malloc(n);
  enum { kOthers = 512 };
  static char* others[kOthers];
  for (int i = 0; i < kOthers; ++i) others[i] = malloc(n);
  free(a);
  for (int i = 0; i < kOthers; ++i) free(others[i]);
  free(opaque(a));
  keep_going(n);
}

static char* shared_x;
static char* shared_b;
static void* free_x_b_b(void* arg) {
  (void)arg;
  free(shared_x);
  free(shared_b);
  free(opaque(shared_b));
  return NULL;
}
static void* free_b(void* arg) {
  (void)arg;
  free(opaque(shared_b));
  return NULL;
}
static void run_thread(void* (*fn)(void*)) {
  pthread_t t;
  pthread_create(&t, NULL, fn, NULL);
  pthread_join(t, NULL);
}

// Another thread frees x, b, b of the main thread's blocks.
static void other_thread(size_t n) {
  shared_x = malloc(n);
  shared_b = malloc(n);
  run_thread(free_x_b_b);
  keep_going(n);
}

// The owner frees b, then another thread frees it again.
static void owner_then_thread(size_t n) {
  shared_b = malloc(n);
  free(shared_b);
  run_thread(free_b);
  keep_going(n);
}

// Another thread frees b, then the owner frees it again.
static void thread_then_owner(size_t n) {
  shared_b = malloc(n);
  run_thread(free_b);
  free(opaque(shared_b));
  keep_going(n);
}

int main(int argc, char** argv) {
  static const struct probe probes[] = {{"immediate", immediate},
                                        {"interleaved", interleaved},
                                        {"after_reuse", after_reuse},
                                        {"after_realloc", after_realloc},
                                        {"after_many", after_many},
                                        {"other_thread", other_thread},
                                        {"owner_then_thread", owner_then_thread},
                                        {"thread_then_owner", thread_then_owner},
                                        {NULL, NULL}};
  return run_probe(probes, argc, argv);
}
