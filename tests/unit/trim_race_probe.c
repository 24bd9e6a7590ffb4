// Worker threads each empty the current page of a class of 8 KiB and up (its page goes
// idle) and then take a large block that finds no resident slices, so the idle page's
// span goes back (router/page_spans.cpp, release_idle_current) while a trimming thread
// releases wholly free segments and purges the free blocks of current pages past 32 KiB
// (purge_idle_current). Exits 1 on a lost or overwritten block; a use of a released
// segment faults. One run hits the window rarely: the ctest runs it many times, each a
// fresh process (a heap's classes that asked again keep their pages).
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static volatile int stop;
static volatile int bad;

static void* trimmer(void* arg) {
  (void)arg;
  while (!stop) malloc_trim(0);
  return NULL;
}

static void* worker(void* arg) {
  unsigned char tag = (unsigned char)(uintptr_t)arg;
  for (int r = 0; r < 50; ++r)
    for (size_t s = 8192; s <= ((size_t)512 << 10); s += s / 8) {
      unsigned char* p = malloc(s);
      unsigned char* q = malloc((size_t)1500 << 10);
      if (p == NULL || q == NULL) {
        bad = 1;
        return NULL;
      }
      for (size_t i = 0; i < s; i += 4096) p[i] = tag;  // trim purges free blocks' pages
      p[s - 1] = tag;
      q[0] = (unsigned char)r;
      for (size_t i = 0; i < s; i += 4096) bad |= p[i] != tag;
      if (p[s - 1] != tag || q[0] != (unsigned char)r) bad = 1;
      free(p);
      free(q);
    }
  return NULL;
}

int main(void) {
  pthread_t t, w[8];
  pthread_create(&t, NULL, trimmer, NULL);
  for (uintptr_t i = 0; i < 8; ++i) pthread_create(&w[i], NULL, worker, (void*)i);
  for (int i = 0; i < 8; ++i) pthread_join(w[i], NULL);
  stop = 1;
  pthread_join(t, NULL);
  if (bad) fprintf(stderr, "trim_race_probe: a block was lost or overwritten\n");
  return bad;
}
