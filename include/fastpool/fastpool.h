/* fastpool C API: the global allocator's engine, for explicit use without overriding
 * anything. Every function follows the C malloc family's contract (errno included);
 * memory from fp_* may be passed to free() only where fastpool also overrides free.
 */
#ifndef FASTPOOL_FASTPOOL_H
#define FASTPOOL_FASTPOOL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#define FP_NOEXCEPT noexcept
#else
#define FP_NOEXCEPT
#endif

/* Returns: a block of at least `size` bytes, aligned to 16 when size >= 16 (to 8 below),
 * unique even for size 0; NULL with errno = ENOMEM when it cannot. */
void* fp_malloc(size_t size) FP_NOEXCEPT;
/* Returns: zeroed memory for n * size bytes; NULL with ENOMEM on overflow or no memory. */
void* fp_calloc(size_t n, size_t size) FP_NOEXCEPT;
/* Effects: glibc's realloc (NULL -> malloc, size 0 -> free and NULL, contents kept). */
void* fp_realloc(void* p, size_t size) FP_NOEXCEPT;
/* Requires: p is NULL or from fp_* and not yet freed. Bad pointers abort with a message
 * where detected (always in FASTPOOL_SECURE and debug builds). */
void fp_free(void* p) FP_NOEXCEPT;
/* Returns: memory aligned to `alignment` (a power of two); NULL with EINVAL otherwise. */
void* fp_aligned_alloc(size_t alignment, size_t size) FP_NOEXCEPT;
/* Returns: the usable size of p (>= the size asked for; all of it writable); 0 for NULL. */
size_t fp_usable_size(const void* p) FP_NOEXCEPT;
/* Returns: the address fp_malloc & co. returned for the live block that p points into (any
 * byte of it), in O(1); NULL where p lies in no block of fastpool's. Unspecified (but never
 * faulting) for a pointer into a freed block. */
void* fp_block_of(const void* p) FP_NOEXCEPT;
/* Returns: nonzero when p points into memory fastpool manages (any byte of a block). */
int fp_owns(const void* p) FP_NOEXCEPT;
/* Effects: returns unused memory of the calling thread and the global caches to the OS. */
void fp_collect(void) FP_NOEXCEPT;

/* Statistics: a versioned snapshot of the whole allocator. Approximate while other threads
 * allocate (their current pages count as of when they became current), exact for the
 * calling thread and for threads that have exited. Kept on slow paths only: the fast paths
 * pay nothing for it. Fields are only ever appended; `version` and `size` say what the
 * library filled. */
#define FP_STATS_VERSION 2
#define FP_STATS_MAX_CLASSES 128

typedef struct fp_class_stats {
  size_t block_size;    /* bytes per block */
  size_t blocks_in_use; /* handed out and not freed */
  size_t pages;         /* pages serving the class */
  size_t pages_full;    /* of those, with every block out */
} fp_class_stats;

typedef struct fp_stats {
  unsigned version; /* FP_STATS_VERSION of the library that filled it */
  unsigned size;    /* bytes of the struct it filled */
  /* blocks */
  size_t bytes_requested; /* sizes asked for, of live blocks: hardened builds (0 elsewhere) */
  size_t bytes_allocated; /* usable bytes of live blocks, small + large + huge */
  size_t blocks_in_use;   /* live blocks of every kind */
  size_t large_blocks;    /* live blocks served from spans (above the largest class) */
  size_t huge_blocks;     /* live blocks with a mapping of their own */
  size_t large_bytes;     /* bytes of the large blocks' spans */
  size_t huge_bytes;      /* bytes mapped for the huge blocks */
  /* memory */
  size_t bytes_mapped;   /* address space mapped for blocks: segments and huge mappings */
  size_t bytes_cached;   /* of that, held for reuse: empty segments, freed huge mappings */
  size_t bytes_purged;   /* ever given back to the OS (madvise, munmap) */
  size_t bytes_metadata; /* heaps, page-map leaves and other records */
  size_t bytes_resident; /* the process's resident set now (/proc/self/statm) */
  size_t peak_resident;  /* the process's largest resident set (getrusage) */
  size_t segments;       /* 4 MiB segments mapped (cached ones included) */
  /* threads */
  size_t heaps_live;             /* heaps owned by a running thread */
  size_t heaps_abandoned;        /* heaps of exited threads, waiting for adoption */
  size_t remote_frees_sent;      /* blocks freed by a thread that did not own them */
  size_t remote_frees_collected; /* of those, taken back by their owners */
  size_t purges;                 /* madvise/munmap calls that gave memory back */
  size_t trims;                  /* malloc_trim / fp_collect calls */
  /* size classes: classes[0 .. class_count) */
  size_t class_count;
  fp_class_stats classes[FP_STATS_MAX_CLASSES];
} fp_stats;

/* Effects: fills the first `size` bytes of *out (at most sizeof(fp_stats) of this
 * library). Returns: the bytes filled. */
size_t fp_stats_read(fp_stats* out, size_t size) FP_NOEXCEPT;
static inline void fp_get_stats(fp_stats* out) FP_NOEXCEPT {
  fp_stats_read(out, sizeof *out);
}
/* Effects: writes the statistics table (global heap and live typed pools) to stderr, as
 * FASTPOOL_SHOW_STATS=1 does at exit and malloc_stats() does. */
void fp_print_stats(void) FP_NOEXCEPT;

#ifdef __cplusplus
}
#endif
#endif /* FASTPOOL_FASTPOOL_H */
