/* Robustness workloads: the shapes where an allocator tuned for small blocks tends to fall
 * over (huge blocks, realloc, memory given back or not, thousands of threads, a big heap).
 *
 * Usage: bench_robust MODE [--scale=F]
 *   realloc-grow           realloc one buffer from 0 to 256 MiB in 64 KiB steps, writing the
 *                          new tail each step
 *   huge-temp              300 x (malloc 8 MiB, memset, free)
 *   huge-pingpong          realloc 3 MiB <-> 10 MiB 2000 times, touching the first and last page
 *   large-huge-pingpong    realloc 1.5 MiB <-> 3 MiB 2000 times (crosses the 2 MiB large/huge
 *                          boundary), touching each end
 *   shrink-to-fit          20000 x (malloc 32 KiB, fill, realloc to 100 B), all kept live;
 *                          prints rss_after_kb (the RSS with all of them live)
 *   calloc-large           1000 x calloc(1 MiB) kept live, one byte written in each
 *   exited-leftovers       8 threads each malloc 64 MiB in 64 KiB blocks (written) and exit
 *                          without freeing; main frees it all and calls malloc_trim(0);
 *                          prints rss_after_kb (the RSS after the trim)
 *   idle-trim              a worker mallocs and writes 512 MiB in 256 KiB blocks, frees them
 *                          and blocks on a condition variable; main calls malloc_trim(0),
 *                          prints rss_after_kb, then releases the worker
 *   thread-waves           3 waves of 256 threads; each allocates 2000 blocks of 16-2048 B,
 *                          hands half to the next thread of its wave (freed there, or by main
 *                          when that thread already passed), frees most of the rest itself and
 *                          keeps 1 in 20 live until the end
 *   many-large-live        20000 live blocks of 96 KiB-1 MiB (only the first bytes written),
 *                          then 20000 malloc(1 MiB)+free pairs; prints worst_us (the slowest
 *                          single malloc of the pairs)
 *   big-heap-worst-malloc  2 GiB live in 1-64 KiB blocks (first bytes written), then 100000
 *                          malloc(40000)+free pairs; prints worst_us
 *   small-heap             a small program: 300 KB live in 16-512 B blocks (written), a third
 *                          freed and allocated again; its peak RSS is the row's figure
 *   idle-threads           64 threads each allocate and write one block of each of 6 sizes
 *                          (16-512 B) and wait; prints kb_per_thread (the RSS they added,
 *                          per thread: stack, thread state and the allocator's share)
 * --scale=F multiplies the work (counts, or the bytes where the shape is about bytes);
 * bench/run.py --quick uses F < 1. Sizes of single blocks never scale.
 *
 * Only malloc, free, realloc, calloc, malloc_trim and pthreads: every allocator under test is
 * given by LD_PRELOAD (bench/launcher/bench_launch.c), and the program is C so that no
 * operator new or other runtime allocation is in the way. Every mode writes a pattern and
 * checks it (after each realloc, before each free); corruption or a null exits 1.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define PAGE ((size_t)4096)

static double g_scale = 1.0;

static void fail(const char* what) {
  fprintf(stderr, "workload check failed: %s\n", what);
  exit(1);
}

static void check(int ok, const char* what) {
  if (!ok) fail(what);
}

static void* xmalloc(size_t n) {
  void* p = malloc(n);
  check(p != NULL, "malloc returned null");
  return p;
}

/* splitmix64, as in bench/macro/common.hpp: a seed means the same run under every allocator. */
static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

typedef struct {
  uint64_t state;
} rng_t;

static uint64_t rng_next(rng_t* r) {
  return mix64(r->state += 0x9e3779b97f4a7c15ULL);
}

static size_t rng_range(rng_t* r, size_t lo, size_t hi) {
  return lo + (size_t)(rng_next(r) % (hi - lo + 1));
}

static size_t scaled(size_t base) {
  const double n = (double)base * g_scale;
  return n >= 1 ? (size_t)n : 1;
}

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* VmRSS of /proc/self/status, in KiB. */
static long rss_kb(void) {
  FILE* f = fopen("/proc/self/status", "r");
  check(f != NULL, "cannot read /proc/self/status");
  char line[256];
  long kb = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
  fclose(f);
  check(kb >= 0, "no VmRSS in /proc/self/status");
  return kb;
}

static void put64(void* p, uint64_t v) {
  memcpy(p, &v, 8);
}

static uint64_t get64(const void* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* The byte a chunk or block number k is filled with. */
static unsigned char pat(size_t k) {
  return (unsigned char)(k * 131 + 7);
}

/* All n bytes of p equal c. */
static int all_equal(const unsigned char* p, size_t n, unsigned char c) {
  const uint64_t word = 0x0101010101010101ULL * c;
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    if (get64(p + i) != word) return 0;
  for (; i < n; ++i)
    if (p[i] != c) return 0;
  return 1;
}

/* A small block stamped at both ends: its size at the start, a tag of size and address at the
 * end, so a block handed out twice or overwritten by a neighbour fails verify_block. */
static uint64_t block_tag(const void* p, size_t size) {
  return mix64((uint64_t)(uintptr_t)p ^ (size << 40) ^ 0x5bd1e995ULL);
}

static void* new_block(size_t size) {
  void* p = xmalloc(size);
  put64(p, size);
  put64((char*)p + size - 8, block_tag(p, size));
  return p;
}

static void free_block(void* p) {
  const size_t size = (size_t)get64(p);
  check(size >= 16 && size <= 2048, "block header corrupted");
  check(get64((char*)p + size - 8) == block_tag(p, size), "block contents corrupted");
  free(p);
}

/* ---- 1. realloc-grow ------------------------------------------------------------------ */
static int realloc_grow(void) {
  const size_t step = 64 * KiB;
  size_t target = scaled(256 * MiB) / step * step;
  if (target < step) target = step;
  unsigned char* p = NULL;
  size_t n = 0;
  rng_t rng = {1};
  for (size_t k = 0; n < target; ++k) {
    unsigned char* q = realloc(p, n + step);
    check(q != NULL, "realloc returned null");
    if (k > 0) { /* the old contents moved with the buffer: spot-check three chunks */
      const size_t j = rng_next(&rng) % k;
      check(
          q[0] == pat(0) && q[n - 1] == pat(k - 1) && q[j * step + rng_next(&rng) % step] == pat(j),
          "realloc lost the buffer's contents");
    }
    memset(q + n, pat(k), step);
    p = q;
    n += step;
  }
  for (size_t j = 0; j < n / step; ++j)
    check(all_equal(p + j * step, step, pat(j)), "grown buffer corrupted");
  free(p);
  return 0;
}

/* ---- 2. huge-temp --------------------------------------------------------------------- */
static int huge_temp(void) {
  const size_t size = 8 * MiB, count = scaled(300);
  for (size_t i = 0; i < count; ++i) {
    unsigned char* p = xmalloc(size);
    memset(p, pat(i), size);
    for (size_t off = 0; off < size; off += PAGE) check(p[off] == pat(i), "huge block corrupted");
    check(p[size - 1] == pat(i), "huge block corrupted");
    free(p);
  }
  return 0;
}

/* ---- 3./4. pingpong ------------------------------------------------------------------- */
/* Words at the start (first page) and at small - 8 survive every realloc; a word at the end
 * of the current size (last page) is written after each one and checked before the next. */
static int pingpong(size_t small, size_t big) {
  const size_t iters = scaled(2000);
  unsigned char* p = xmalloc(small);
  size_t cur = small;
  uint64_t tag = mix64(0);
  put64(p, tag);
  put64(p + small - 8, tag);
  put64(p + cur - 16, ~tag);
  for (size_t i = 1; i <= iters; ++i) {
    check(get64(p + cur - 16) == ~tag, "last page corrupted");
    const size_t next = cur == small ? big : small;
    unsigned char* q = realloc(p, next);
    check(q != NULL, "realloc returned null");
    check(get64(q) == tag && get64(q + small - 8) == tag, "realloc lost the block's contents");
    p = q;
    cur = next;
    tag = mix64(i);
    put64(p, tag);
    put64(p + small - 8, tag);
    put64(p + cur - 16, ~tag);
  }
  free(p);
  return 0;
}

/* ---- 5. shrink-to-fit ----------------------------------------------------------------- */
static int shrink_to_fit(void) {
  const size_t count = scaled(20000), big = 32 * KiB, small = 100;
  unsigned char** live = xmalloc(count * sizeof *live);
  for (size_t i = 0; i < count; ++i) {
    unsigned char* p = xmalloc(big);
    memset(p, pat(i), big);
    unsigned char* q = realloc(p, small);
    check(q != NULL, "realloc returned null");
    check(all_equal(q, small, pat(i)), "shrunk block lost its contents");
    live[i] = q;
  }
  printf("rss_after_kb=%ld\n", rss_kb());
  for (size_t i = 0; i < count; ++i) {
    check(all_equal(live[i], small, pat(i)), "shrunk block corrupted");
    free(live[i]);
  }
  free(live);
  return 0;
}

/* ---- 6. calloc-large ------------------------------------------------------------------ */
/* First a few 1 MiB blocks are dirtied and freed, so a calloc that reuses them must zero them.
 * The checks read only the first and last 64 bytes (and the written byte): reading every page
 * would make the blocks resident, which is what the row measures calloc for not doing. */
static int calloc_large(void) {
  const size_t size = 1 * MiB, count = scaled(1000);
  for (int i = 0; i < 4; ++i) {
    void* d = xmalloc(size);
    memset(d, 0xa5, size);
    free(d);
  }
  unsigned char** live = xmalloc(count * sizeof *live);
  for (size_t i = 0; i < count; ++i) {
    unsigned char* p = calloc(1, size);
    check(p != NULL, "calloc returned null");
    check(all_equal(p, 64, 0) && all_equal(p + size - 64, 64, 0) && p[size / 2] == 0,
          "calloc memory not zeroed");
    p[size / 2] = pat(i);
    live[i] = p;
  }
  for (size_t i = 0; i < count; ++i) {
    unsigned char* p = live[i];
    check(all_equal(p, 64, 0) && all_equal(p + size - 64, 64, 0) && p[size / 2] == pat(i),
          "calloc block corrupted");
    free(p);
  }
  free(live);
  return 0;
}

/* ---- 7. exited-leftovers -------------------------------------------------------------- */
typedef struct {
  size_t id, nblocks, size;
  unsigned char** blocks; /* allocated by main, filled by the thread */
} leftover_job;

static void* leftover_thread(void* arg) {
  leftover_job* job = arg;
  for (size_t i = 0; i < job->nblocks; ++i) {
    unsigned char* p = xmalloc(job->size);
    memset(p, pat(job->id * 7919 + i), job->size);
    job->blocks[i] = p;
  }
  return NULL; /* exits with every block still allocated */
}

static void spot_check(const unsigned char* p, size_t size, unsigned char c) {
  for (size_t off = 0; off < size; off += PAGE) check(p[off] == c, "block corrupted");
  check(p[size - 1] == c, "block corrupted");
}

static int exited_leftovers(void) {
  enum { kThreads = 8 };
  const size_t size = 64 * KiB;
  size_t nblocks = scaled(64 * MiB) / size;
  if (nblocks == 0) nblocks = 1;
  leftover_job jobs[kThreads];
  pthread_t tids[kThreads];
  for (size_t t = 0; t < kThreads; ++t) {
    jobs[t] = (leftover_job){t, nblocks, size, xmalloc(nblocks * sizeof(unsigned char*))};
    check(pthread_create(&tids[t], NULL, leftover_thread, &jobs[t]) == 0, "pthread_create");
  }
  for (size_t t = 0; t < kThreads; ++t) check(pthread_join(tids[t], NULL) == 0, "pthread_join");
  for (size_t t = 0; t < kThreads; ++t) {
    for (size_t i = 0; i < nblocks; ++i) {
      spot_check(jobs[t].blocks[i], size, pat(t * 7919 + i));
      free(jobs[t].blocks[i]);
    }
    free(jobs[t].blocks);
  }
  malloc_trim(0);
  printf("rss_after_kb=%ld\n", rss_kb());
  return 0;
}

/* ---- 8. idle-trim --------------------------------------------------------------------- */
static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;
static int idle_freed, idle_released;

static void* idle_worker(void* arg) {
  (void)arg;
  const size_t size = 256 * KiB;
  size_t n = scaled(512 * MiB) / size;
  if (n == 0) n = 1;
  unsigned char** blocks = xmalloc(n * sizeof *blocks);
  for (size_t i = 0; i < n; ++i) {
    blocks[i] = xmalloc(size);
    memset(blocks[i], pat(i), size);
  }
  for (size_t i = 0; i < n; ++i) {
    spot_check(blocks[i], size, pat(i));
    free(blocks[i]);
  }
  free(blocks);
  pthread_mutex_lock(&idle_lock);
  idle_freed = 1;
  pthread_cond_broadcast(&idle_cond);
  while (!idle_released) pthread_cond_wait(&idle_cond, &idle_lock); /* idle: no more calls */
  pthread_mutex_unlock(&idle_lock);
  return NULL;
}

static int idle_trim(void) {
  pthread_t worker;
  check(pthread_create(&worker, NULL, idle_worker, NULL) == 0, "pthread_create");
  pthread_mutex_lock(&idle_lock);
  while (!idle_freed) pthread_cond_wait(&idle_cond, &idle_lock);
  pthread_mutex_unlock(&idle_lock);
  malloc_trim(0);
  printf("rss_after_kb=%ld\n", rss_kb());
  fflush(stdout);
  pthread_mutex_lock(&idle_lock);
  idle_released = 1;
  pthread_cond_broadcast(&idle_cond);
  pthread_mutex_unlock(&idle_lock);
  check(pthread_join(worker, NULL) == 0, "pthread_join");
  return 0;
}

/* ---- 9. thread-waves ------------------------------------------------------------------ */
enum { kWaves = 3, kWaveThreads = 256, kRing = 64 };

typedef struct {
  size_t wave, index, nblocks;
  void** kept; /* freed by main after the last wave */
  size_t nkept;
} wave_job;

static _Atomic(void**) handoff[kWaves][kWaveThreads]; /* each thread's half for the next */

static size_t handoff_count(size_t nblocks) {
  return (nblocks + 1) / 2;
}

static void free_handoff(void** blocks, size_t n) {
  for (size_t i = 0; i < n; ++i) free_block(blocks[i]);
  free(blocks);
}

static void* wave_thread(void* arg) {
  wave_job* job = arg;
  rng_t rng = {job->wave * 100003 + job->index};
  void** hand = xmalloc(handoff_count(job->nblocks) * sizeof *hand);
  job->kept = xmalloc((job->nblocks / 20 + 1) * sizeof *job->kept);
  void* ring[kRing] = {0};
  size_t nhand = 0, ring_at = 0;
  for (size_t i = 0; i < job->nblocks; ++i) {
    void* p = new_block(rng_range(&rng, 16, 2048));
    if (i % 2 == 0) {
      hand[nhand++] = p;
    } else if (i % 20 == 1) {
      job->kept[job->nkept++] = p;
    } else { /* short-lived: freed kRing blocks later */
      if (ring[ring_at]) free_block(ring[ring_at]);
      ring[ring_at] = p;
      ring_at = (ring_at + 1) % kRing;
    }
  }
  for (int i = 0; i < kRing; ++i)
    if (ring[i]) free_block(ring[i]);
  atomic_store(&handoff[job->wave][job->index], hand);
  if (job->index > 0) { /* free the previous thread's half, if it has handed it over yet */
    void** prev = atomic_exchange(&handoff[job->wave][job->index - 1], NULL);
    if (prev) free_handoff(prev, handoff_count(job->nblocks));
  }
  return NULL;
}

static int thread_waves(void) {
  size_t nblocks = scaled(2000);
  if (nblocks < 40) nblocks = 40;
  static wave_job jobs[kWaves][kWaveThreads];
  pthread_t tids[kWaveThreads];
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * KiB);
  for (size_t w = 0; w < kWaves; ++w) {
    for (size_t t = 0; t < kWaveThreads; ++t) {
      jobs[w][t] = (wave_job){w, t, nblocks, NULL, 0};
      check(pthread_create(&tids[t], &attr, wave_thread, &jobs[w][t]) == 0, "pthread_create");
    }
    for (size_t t = 0; t < kWaveThreads; ++t) check(pthread_join(tids[t], NULL) == 0, "join");
    for (size_t t = 0; t < kWaveThreads; ++t) { /* halves whose next thread came too early */
      void** left = atomic_exchange(&handoff[w][t], NULL);
      if (left) free_handoff(left, handoff_count(nblocks));
    }
  }
  pthread_attr_destroy(&attr);
  for (size_t w = 0; w < kWaves; ++w)
    for (size_t t = 0; t < kWaveThreads; ++t) {
      for (size_t i = 0; i < jobs[w][t].nkept; ++i) free_block(jobs[w][t].kept[i]);
      free(jobs[w][t].kept);
    }
  return 0;
}

/* ---- 10./11. worst malloc latency next to a big live set ------------------------------ */
/* Allocates `live_bytes` (or `live_count` blocks, whichever ends first) in sizes lo..hi with
 * only their first 8 bytes written, then times `pairs` malloc(probe)+free pairs. */
static int worst_latency(size_t live_count, size_t live_bytes, size_t lo, size_t hi, size_t probe,
                         size_t pairs) {
  rng_t rng = {11};
  size_t cap = 1024, n = 0, total = 0;
  unsigned char** live = xmalloc(cap * sizeof *live);
  while (n < live_count && total < live_bytes) {
    if (n == cap) {
      cap *= 2;
      live = realloc(live, cap * sizeof *live);
      check(live != NULL, "realloc returned null");
    }
    const size_t size = rng_range(&rng, lo, hi);
    unsigned char* p = xmalloc(size);
    put64(p, mix64(n));
    live[n++] = p;
    total += size;
  }
  long long worst = 0;
  for (size_t j = 0; j < pairs; ++j) {
    const long long t0 = now_ns();
    unsigned char* p = malloc(probe);
    const long long t = now_ns() - t0;
    check(p != NULL, "malloc returned null");
    if (t > worst) worst = t;
    put64(p, j);
    put64(p + probe - 8, ~(uint64_t)j);
    check(get64(p) == j && get64(p + probe - 8) == ~(uint64_t)j, "probe block corrupted");
    free(p);
  }
  for (size_t i = 0; i < n; ++i) {
    check(get64(live[i]) == mix64(i), "live block corrupted");
    free(live[i]);
  }
  free(live);
  printf("worst_us=%.1f\n", (double)worst / 1000.0);
  return 0;
}

static int many_large_live(void) {
  return worst_latency(scaled(20000), (size_t)-1, 96 * KiB, 1 * MiB, 1 * MiB, scaled(20000));
}

static int big_heap_worst_malloc(void) {
  return worst_latency((size_t)-1, scaled(2 * GiB), 1 * KiB, 64 * KiB, 40000, scaled(100000));
}

/* ---- 12. small-heap ------------------------------------------------------------------ */
static int small_heap(void) {
  enum { kMax = 8192 };
  static void* blocks[kMax];
  size_t n = 0, live = 0;
  const size_t target = scaled(300 * KiB);
  rng_t rng = {12};
  while (live < target && n < kMax) {
    size_t size = rng_range(&rng, 16, 512);
    blocks[n++] = new_block(size);
    live += size;
  }
  for (size_t i = 0; i < n; i += 3) {
    free_block(blocks[i]);
    blocks[i] = new_block(rng_range(&rng, 16, 512));
  }
  for (size_t i = 0; i < n; ++i) free_block(blocks[i]);
  return 0;
}

/* ---- 13. idle-threads ----------------------------------------------------------------- */
enum { kIdleThreads = 64, kIdleSizes = 6 };
static pthread_barrier_t idle_ready, idle_done;

static void* idle_thread(void* arg) {
  (void)arg;
  void* held[kIdleSizes];
  for (int i = 0; i < kIdleSizes; ++i) held[i] = new_block((size_t)16 << i); /* 16..512 B */
  pthread_barrier_wait(&idle_ready);
  pthread_barrier_wait(&idle_done);
  for (int i = 0; i < kIdleSizes; ++i) free_block(held[i]);
  return NULL;
}

static int idle_threads(void) {
  pthread_t tids[kIdleThreads];
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * KiB);
  check(pthread_barrier_init(&idle_ready, NULL, kIdleThreads + 1) == 0, "barrier");
  check(pthread_barrier_init(&idle_done, NULL, kIdleThreads + 1) == 0, "barrier");
  free_block(new_block(16)); /* the main thread's own allocator state comes first */
  const long before = rss_kb();
  for (size_t t = 0; t < kIdleThreads; ++t)
    check(pthread_create(&tids[t], &attr, idle_thread, NULL) == 0, "pthread_create");
  pthread_barrier_wait(&idle_ready);
  const long during = rss_kb();
  pthread_barrier_wait(&idle_done);
  for (size_t t = 0; t < kIdleThreads; ++t) check(pthread_join(tids[t], NULL) == 0, "join");
  pthread_attr_destroy(&attr);
  printf("kb_per_thread=%.1f\n", (double)(during - before) / kIdleThreads);
  return 0;
}

static int realloc_pingpong_huge(void) {
  return pingpong(3 * MiB, 10 * MiB);
}
static int realloc_pingpong_large(void) {
  return pingpong(3 * MiB / 2, 3 * MiB);
}

static const struct {
  const char* name;
  int (*run)(void);
} kModes[] = {
    {"realloc-grow", realloc_grow},
    {"huge-temp", huge_temp},
    {"huge-pingpong", realloc_pingpong_huge},
    {"large-huge-pingpong", realloc_pingpong_large},
    {"shrink-to-fit", shrink_to_fit},
    {"calloc-large", calloc_large},
    {"exited-leftovers", exited_leftovers},
    {"idle-trim", idle_trim},
    {"thread-waves", thread_waves},
    {"many-large-live", many_large_live},
    {"big-heap-worst-malloc", big_heap_worst_malloc},
    {"small-heap", small_heap},
    {"idle-threads", idle_threads},
};

static int usage(const char* argv0) {
  fprintf(stderr, "usage: %s MODE [--scale=F]\nmodes:", argv0);
  for (size_t i = 0; i < sizeof kModes / sizeof kModes[0]; ++i)
    fprintf(stderr, " %s", kModes[i].name);
  fprintf(stderr, "\n");
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 2) return usage(argv[0]);
  for (int i = 2; i < argc; ++i) {
    if (strncmp(argv[i], "--scale=", 8) == 0) {
      g_scale = atof(argv[i] + 8);
      if (!(g_scale > 0)) return usage(argv[0]);
    } else {
      return usage(argv[0]);
    }
  }
  for (size_t i = 0; i < sizeof kModes / sizeof kModes[0]; ++i)
    if (strcmp(argv[1], kModes[i].name) == 0) {
      const int rc = kModes[i].run();
      fflush(stdout);
      return rc;
    }
  return usage(argv[0]);
}
