// Worker threads each empty the current page of a class of 8 KiB and up (its page goes
// idle) and then take a large block that finds no resident slices, so the idle page's
// span goes back (router/page_spans.cpp, release_idle_current) while a trimming thread
// releases wholly free segments and purges the free blocks of current pages past 32 KiB
// (purge_idle_current). Exits 1 on a lost or overwritten block; a use of a released
// segment faults. One run hits the window rarely: the ctest runs it many times, each a
// fresh process (a heap's classes that asked again keep their pages).
// `trim_race_probe purge`: two workers cycle blocks of classes past 32 KiB (64 to 352
// KiB, each its current page's only block), writing and checking every 4 KiB page, so
// trim purges free blocks of current pages as their owner takes them; a block taken
// meanwhile must keep what it writes (with the owner's pops unlocked, every run failed).
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void* purge_worker(void* arg) {
  unsigned char tag = (unsigned char)(uintptr_t)arg;
  for (int r = 0; r < 20000 && !bad; ++r) {
    size_t s = (size_t)(64 + (r % 4) * 96) << 10;
    unsigned char* p = malloc(s);
    if (p == NULL) {
      bad = 1;
      break;
    }
    for (size_t i = 0; i < s; i += 4096) p[i] = tag;
    for (size_t i = 0; i < s; i += 4096) bad |= p[i] != tag;
    free(p);
  }
  return NULL;
}

int main(int argc, char** argv) {
  int purge = argc > 1 && strcmp(argv[1], "purge") == 0;
  int n = purge ? 2 : 8;
  pthread_t t, w[8];
  pthread_create(&t, NULL, trimmer, NULL);
  for (uintptr_t i = 0; i < (uintptr_t)n; ++i)
    pthread_create(&w[i], NULL, purge ? purge_worker : worker, (void*)(i + purge));
  for (int i = 0; i < n; ++i) pthread_join(w[i], NULL);
  stop = 1;
  pthread_join(t, NULL);
  if (bad) fprintf(stderr, "trim_race_probe: a block was lost or overwritten\n");
  return bad;
}
