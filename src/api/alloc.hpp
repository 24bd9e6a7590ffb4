// The allocation API every front door shares: the malloc and free fast paths (inline,
// a handful of instructions each) and the out-of-line functions behind them.
//
// malloc fast path: thread heap -> direct table -> current page -> pop its free list.
// free fast path:   page map -> page record -> a non-full page of this thread's heap ->
//                   push on its free list (counted unless it is the current page). Then
//                   free_other_page: a page of this heap not claimed yet (push, count,
//                   claim), another heap's small block (the remote batch). Everything
//                   else (NULL, large and huge blocks, misuse) is free_slow.
#pragma once

#include <cstddef>

#include "router/heap.hpp"
#include "segment/page_map.hpp"

#define FP_EXPORT __attribute__((visibility("default")))

namespace fastpool {

// Debug builds validate every free in full before using it (the release fast path checks
// the block start and the free tag; secure builds check in their own layer first).
#if !defined(NDEBUG)
inline constexpr bool kCheckedFree = true;
#else
inline constexpr bool kCheckedFree = false;
#endif

// Returns null with errno = ENOMEM on failure.
FP_SLOW_PATH void* malloc_slow(std::size_t size) noexcept;
// Like malloc_slow, but past kMaxSmall always a large span or a huge block, which grow in
// place: where realloc puts a block that keeps growing.
void* malloc_growable(std::size_t size) noexcept;
FP_SLOW_PATH void free_slow(void* p) noexcept;
FP_SLOW_PATH void check_free(void* p) noexcept;
// The record of a block about to be freed or resized; aborts with a message when p is
// not a live block's start.
Page* validated_page_of(void* p, bool resizing) noexcept;
// REQUIRES: alignment is a power of two. Null with ENOMEM on failure.
void* aligned_alloc_checked(std::size_t alignment, std::size_t size) noexcept;
void* calloc_impl(std::size_t n, std::size_t size) noexcept;
void* realloc_impl(void* p, std::size_t size) noexcept;
// REQUIRES: pg == validated_page_of(p, true). Resizes p without copying bytes (in place,
// or huge pages remapped): the block's new address, or null when it must move.
void* resize_block(void* p, Page* pg, std::size_t size) noexcept;
// The core's block holding p (any byte of it): [start, end), or nulls where p is in none.
struct BlockSpan {
  char* start;
  char* end;
};
BlockSpan block_span(const void* p) noexcept;
std::size_t usable_size(const void* p) noexcept;
// Process-wide: returns true when memory went back to the OS.
bool collect_all() noexcept;

// A block from the calling thread's current page of size's class, or null where that
// takes the slow path (past kMaxSmall, page used up). *from: the page, when given.
FP_FAST_PATH void* pop_current(std::size_t size, Page** from = nullptr) noexcept {
  Page* pg;
  if (FP_LIKELY(size <= kDirectMax))
    pg = tls_direct[direct_slot(size)];
  else if (size <= kMaxSmall)  // past the direct table: the medium table's class
    pg = tls_heap->current[medium_class(size)];
  else
    return nullptr;
  if (from != nullptr) *from = pg;
  return pg->pool.pop_uncounted();
}

FP_FAST_PATH void* malloc_fast(std::size_t size) noexcept {
  if (void* b = pop_current(size); FP_LIKELY(b != nullptr)) return b;
  return malloc_slow(size);
}

// REQUIRES: alignment is a power of two. Sizes whose class is aligned enough already
// (every block is aligned to the largest power of two dividing its class size) take
// the malloc fast path.
FP_FAST_PATH void* aligned_alloc_fast(std::size_t alignment, std::size_t size) noexcept {
  std::size_t n = size > alignment ? size : alignment;
  if (FP_LIKELY(n <= kDirectMax &&
                (kClassSize[kDirectClass[direct_slot(n)]] & (alignment - 1)) == 0))
    return malloc_fast(n);
  return aligned_alloc_checked(alignment, size);
}

FP_SLOW_PATH void free_other_page(void* p, Page* pg, std::uintptr_t owner) noexcept;
// The free fast path's push of p left page pg with no block out by its count: the span
// goes back (held == kOwnerCounted), or (0) a current page's stale count gets its mark
// again. p, first: the fast path keeps the block and the record where they came.
FP_COLD void free_emptied(void* p, Page* pg, std::uintptr_t held) noexcept;
// A free into a page under the caller's thread word that failed the fast checks: aborts
// with the message validated_page_of gives.
[[noreturn]] FP_COLD void bad_current_free(void* p) noexcept;

// A block of a page the calling thread holds (owner word: its thread word, or that
// | kOwnerCounted, segment/page.hpp) is pushed after two checks (`kCheck`): it starts a
// block (one multiply), and its second word is not the page's free tag
// (engine/free_list.hpp), i.e. it is not free already. The current page's push is
// uncounted, another page's counted; which of the two is data, not a branch: frees of
// random lifetimes hit either at random. The statistics learn of counted frees later
// (HeapStats). Every other page: free_other_page.
template <bool kCheck>
FP_FAST_PATH void free_into(void* p, Page* pg) noexcept {
  std::uintptr_t held = owner_distance(pg->owner.load(std::memory_order_relaxed));
  if (FP_LIKELY(held <= kOwnerCounted)) {  // 0: my current page, 1: another of mine
    if constexpr (kCheck) {
      auto off = static_cast<std::uint64_t>(static_cast<char*>(p) - pg->pool.start());
      if (FP_UNLIKELY(!is_block_offset(pg, off) || pg->pool.free_list().is_tagged(p)))
        bad_current_free(p);
    }
    if (FP_UNLIKELY(pg->pool.push_counting(p, static_cast<std::uint32_t>(held))))
      free_emptied(p, pg, held);
    return;
  }
  free_other_page(p, pg, pg->owner.load(std::memory_order_relaxed));
}

FP_FAST_PATH void free_fast(void* p) noexcept {
  if constexpr (kCheckedFree) check_free(p);
  free_into<true>(p, page_of(p));  // NULL and foreign pointers find the sentinel: no owner
}

// free_fast for a block whose record the caller holds and has validated (the hardened
// layer's quarantine: it checked the block when it was released, and a block it holds
// is live to the core, so its page stays put).
// REQUIRES: p is the start of a live small block of page pg.
FP_FAST_PATH void free_validated(void* p, Page* pg) noexcept {
  free_into<false>(p, pg);
}

}  // namespace fastpool
