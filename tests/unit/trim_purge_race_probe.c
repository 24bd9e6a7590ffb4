// Workers cycle blocks of classes past 32 KiB (64 to 352 KiB, each its current page's only
// block), writing and checking every 4 KiB page, while a thread trims without pause: trim
// purges the free blocks of other threads' current pages (router/page_spans.cpp,
// purge_idle_current), and a block the owner takes meanwhile must keep what it writes.
// Exits 1 when a written page reads back otherwise (with the owner's pops unlocked, every
// run here did).
#include <malloc.h>
#include <pthread.h>
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
  unsigned char tag = (unsigned char)(size_t)arg;
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

int main(void) {
  pthread_t t, w[2];
  pthread_create(&t, NULL, trimmer, NULL);
  for (size_t i = 0; i < 2; ++i) pthread_create(&w[i], NULL, worker, (void*)(i + 1));
  for (int i = 0; i < 2; ++i) pthread_join(w[i], NULL);
  stop = 1;
  pthread_join(t, NULL);
  if (bad) fprintf(stderr, "trim_purge_race_probe: a written page of a live block was purged\n");
  return bad;
}
