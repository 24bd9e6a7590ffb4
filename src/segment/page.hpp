// The page record: what free(p) finds through the page map, for every kind of block.
//
// Glossary
//   slice    64 KiB; the unit segments hand out and the page map resolves
//   page     a run of slices serving one size class (a FixedBlockPool of equal blocks),
//            one large block, or one huge block (a mapping of its own)
//   span     the slices of one page
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "fastpool/engine/fixed_pool.hpp"

namespace fastpool {

struct Heap;

inline constexpr int kSliceShift = 16;
inline constexpr std::size_t kSliceSize = std::size_t{1} << kSliceShift;

enum class PageKind : std::uint8_t { unused, small, large, huge };

// Owner word of a page: the owning heap's address, plus these flag bits.
//   no flag:      the current page of its class. The malloc and free fast paths use the
//                 uncounted pop/push, so pool.used() is stale; it is made exact (recount
//                 or "all used" when exhausted) whenever the page stops being current.
//   kOwnerCounted: any other page of the heap; every free keeps pool.used() exact.
//   kOwnerFull:   on the class queue's full list (or a large page): frees need the slow
//                 path that moves it back or returns the span.
inline constexpr std::uintptr_t kOwnerCounted = 1;
inline constexpr std::uintptr_t kOwnerFull = 2;
inline constexpr std::uintptr_t kOwnerFlags = kOwnerCounted | kOwnerFull;

// Page record: one per slice in a segment's header (a page's record is its first
// slice's), or the head of a huge block's header. Owner-written; `owner` is read by
// every thread's free.
// Invariants:
//   kind == small:  pool holds blocks of class `size_class`; the page is on its heap's
//                   class queue; owner == heap | flags as above.
//   kind == large:  pool holds one block of slice_count slices, handed out at its
//                   start; owner == heap|kOwnerCounted|kOwnerFull.
//   kind == huge:   the record in a huge block's header (segment/huge.hpp); owner == 0.
//   kind == unused: owner == 0 (free slices, cached huge mappings, the sentinel).
// The free fast path compares `owner` with the caller's heap: equal means "my current
// page: an uncounted push onto its free list is all there is to do".
// Two cache lines: the first is the owner's hot state (its mallocs write it all the
// time), the second is what other threads read when they free into the page, so their
// frees do not miss on a line the owner keeps writing.
struct alignas(128) Page {
  engine::FixedBlockPool pool;
  Page* next = nullptr;  // class queue links (GrowingBlockPool chunk)
  Page* prev = nullptr;

  alignas(64) std::atomic<std::uintptr_t> owner{0};
  bool full = false;  // GrowingBlockPool: on the full list
  PageKind kind = PageKind::unused;
  std::uint8_t size_class = 0;
  std::uint8_t slice_count = 0;
  // small: ceil(2^40 / block size), so that checking a freed pointer is the start of a
  // block is a multiply, not a division: offset / size == (offset * magic) >> 40 exactly
  // for every offset below 2^40 / size (pages are sized to stay below it).
  std::uint64_t block_magic = 0;
};
static_assert(sizeof(Page) == 128);

// The record with no blocks and no owner: the page map's sentinel for every slice
// fastpool does not own, and the heaps' placeholder current page.
extern FP_INTERNAL Page g_empty_page;

}  // namespace fastpool
