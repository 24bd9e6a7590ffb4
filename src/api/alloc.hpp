// The allocation API every front door shares: the malloc and free fast paths (inline,
// a handful of instructions each) and the out-of-line functions behind them.
//
// malloc fast path: thread heap -> direct table -> page -> pop its free list.
// free fast path:   mask -> page record -> owned by this thread's heap and not full ->
//                   push on the page's free list. Everything else is free_slow.
#pragma once

#include <cstddef>

#include "router/heap.hpp"

#define FP_EXPORT __attribute__((visibility("default")))

namespace fastpool {

// Checked builds validate every free (foreign pointer, double free) before using it.
#if defined(FASTPOOL_SECURE) || !defined(NDEBUG)
inline constexpr bool kCheckedFree = true;
#else
inline constexpr bool kCheckedFree = false;
#endif

// Returns null with errno = ENOMEM on failure.
FP_SLOW_PATH void* malloc_slow(std::size_t size) noexcept;
FP_SLOW_PATH void free_slow(void* p) noexcept;
FP_SLOW_PATH void check_free(void* p) noexcept;
// REQUIRES: alignment is a power of two. Null with ENOMEM on failure.
void* aligned_alloc_checked(std::size_t alignment, std::size_t size) noexcept;
void* calloc_impl(std::size_t n, std::size_t size) noexcept;
void* realloc_impl(void* p, std::size_t size) noexcept;
std::size_t usable_size(const void* p) noexcept;
void collect_all() noexcept;

FP_FAST_PATH void* malloc_fast(std::size_t size) noexcept {
  if (FP_LIKELY(size <= kDirectMax)) {
    Page* pg = tls_heap->direct[direct_slot(size)];
    if (void* b = pg->pool.pop_free(); FP_LIKELY(b != nullptr)) return b;
  }
  return malloc_slow(size);
}

FP_FAST_PATH void free_fast(void* p) noexcept {
  if constexpr (kCheckedFree) check_free(p);
  Segment* s = segment_of(p);
  if (FP_UNLIKELY(s == nullptr)) return free_slow(p);  // null (or a bogus low address)
  Page* pg = page_record_of(s, p);
  if (FP_LIKELY(pg->owner.load(std::memory_order_relaxed) ==
                reinterpret_cast<std::uintptr_t>(tls_heap))) {
    pg->pool.deallocate(p);
    return;
  }
  free_slow(p);
}

}  // namespace fastpool
