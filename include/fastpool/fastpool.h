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
/* Returns: nonzero when p points into memory fastpool manages (any byte of a block). */
int fp_owns(const void* p) FP_NOEXCEPT;
/* Effects: returns unused memory of the calling thread and the global caches to the OS. */
void fp_collect(void) FP_NOEXCEPT;

/* Process-wide counters (approximate while other threads run). */
typedef struct fp_stats {
  size_t segments_mapped;  /* segments currently mapped from the OS */
  size_t bytes_mapped;     /* bytes currently mapped (segments and huge blocks) */
  size_t huge_allocations; /* huge blocks currently live */
  size_t heaps;            /* thread heaps created (live and abandoned) */
} fp_stats;
void fp_get_stats(fp_stats* out) FP_NOEXCEPT;

#ifdef __cplusplus
}
#endif
#endif /* FASTPOOL_FASTPOOL_H */
