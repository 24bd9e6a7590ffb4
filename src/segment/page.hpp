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
// Segments: 4 MiB, aligned to their size; a small page's blocks and its record (in the
// segment's header) share one (segment/segment.hpp).
inline constexpr int kSegmentShift = 22;
inline constexpr std::size_t kSliceSize = std::size_t{1} << kSliceShift;

enum class PageKind : std::uint8_t { unused, small, large, huge };

// Owner word of a page:
//   thread word:  the current page of its class in the heap of the thread whose
//                 thread_owner_word() it is (no flag bits). The malloc and free fast
//                 paths use the uncounted pop/push, so pool.used() is stale; it is made
//                 exact (recount or "all used" when exhausted) whenever the page stops
//                 being current, which it does before its thread lets go of the heap.
//   thread word | kOwnerCounted: any other page on a class queue of the heap that thread
//                 holds. pool.used() is exact (the free fast path counts these frees, with
//                 no branch between the two words); `accounted` may lag behind it.
//   heap | kOwnerCounted: any other page of a heap no thread holds (abandoned), or one
//                 its holder has not claimed yet (it does at its first free there, in
//                 free_other_page); every free keeps pool.used() and `accounted` exact.
//                 A heap's holder turns its thread-word pages into these before it lets go
//                 of the heap: a later thread may get the same thread pointer.
//   heap | kOwnerCounted | kOwnerFull: on the class queue's full list (or a large page):
//                 frees need the slow path that moves it back or returns the span.
inline constexpr std::uintptr_t kOwnerCounted = 1;
inline constexpr std::uintptr_t kOwnerFull = 2;
inline constexpr std::uintptr_t kOwnerFlags = kOwnerCounted | kOwnerFull;

// The calling thread's owner word: on x86-64 the thread pointer (%fs:0), which the free
// fast path compares with one instruction and no TLS offset to load. Unique among live
// threads; 64-byte aligned, so it never has flag bits.
FP_FAST_PATH std::uintptr_t thread_owner_word() noexcept {
#if defined(__x86_64__)
  std::uintptr_t tp;
  asm("mov %%fs:0, %0" : "=r"(tp));
  return tp;
#else
  return reinterpret_cast<std::uintptr_t>(__builtin_thread_pointer());
#endif
}
FP_FAST_PATH bool is_thread_owner(std::uintptr_t owner) noexcept {
#if defined(__x86_64__)
  bool equal;
  asm("cmp %%fs:0, %1" : "=@ccz"(equal) : "r"(owner));
  return equal;
#else
  return owner == thread_owner_word();
#endif
}
// owner XOR the calling thread's word: 0 for its current pages, kOwnerCounted for its
// other counted pages, more for every other page.
FP_FAST_PATH std::uintptr_t owner_distance(std::uintptr_t owner) noexcept {
#if defined(__x86_64__)
  asm("xor %%fs:0, %0" : "+r"(owner));
  return owner;
#else
  return owner ^ thread_owner_word();
#endif
}
// A current page's owner word: set, and no flag bits.
inline bool is_current_word(std::uintptr_t owner) noexcept {
  return owner != 0 && (owner & kOwnerFlags) == 0;
}

// Page record: one per slice in a segment's header (a page's record is its first
// slice's), or the head of a huge block's header. Owner-written; `owner` is read by
// every thread's free.
// Invariants:
//   kind == small:  pool holds blocks of class `size_class`; the page is on `heap`'s
//                   class queue; owner as above.
//   kind == large:  pool holds one block of slice_count slices, handed out at its
//                   start; owner == heap|kOwnerCounted|kOwnerFull.
//   kind == huge:   the record in a huge block's header (segment/huge.hpp); owner == 0.
//   kind == unused: owner == 0 (free slices, cached huge mappings, the sentinel).
// The free fast path XORs `owner` with the caller's thread word: 0 means "my current
// page: an uncounted push", 1 "another of my pages: push and count".
// Two cache lines: the first is the owner's hot state (its mallocs write it all the
// time), the second is what other threads read when they free into the page, so their
// frees do not miss on a line the owner keeps writing.
struct alignas(128) Page {
  // small: a freed block's tag is this record's address (engine/free_list.hpp)
  [[no_unique_address]] engine::TaggedBlockPool<kSegmentShift> pool;
  // small: pool.used() as last added to the heap's statistics (router/heap.hpp). On the
  // owner's line: collecting remote frees writes it for every block.
  // Owner only; read by statistics.
  std::uint32_t accounted = 0;
  Page* next = nullptr;  // class queue links (GrowingBlockPool chunk)
  Page* prev = nullptr;

  alignas(64) std::atomic<std::uintptr_t> owner{0};
  bool full = false;  // GrowingBlockPool: on the full list
  PageKind kind = PageKind::unused;
  std::uint8_t size_class = 0;
  std::uint8_t slice_count = 0;
  Heap* heap = nullptr;  // small and large: the heap whose spans and queue hold the page
  // small: the first block, pool.start() again, for the checks of frees that must not
  // read the owner's line (another thread's, or a page that is not current).
  char* block_base = nullptr;
  // small: m = 1 + (2^64 - 1) / block size, and block_limit. An offset n < 2^32 into
  // the page is a multiple of the block size iff n * m (mod 2^64) < m (Lemire, Kaser and
  // Kurz, "Faster remainder by direct computation", 2019); for the k-th multiple the
  // product is k * e, e = m * size mod 2^64. So with block_limit = capacity * e (or m where
  // e = 0: a power-of-two size, which divides the span) one compare also rejects the
  // multiple past the last block, in the page's tail: a block-start check in one multiply.
  std::uint64_t block_magic = 0;
  std::uint64_t block_limit = 0;
};
static_assert(sizeof(Page) == 128);
static_assert(offsetof(Page, accounted) < 64 && offsetof(Page, owner) == 64);

// REQUIRES: pg is a small page, n < 2^32. True when byte n of the page starts a block.
FP_FAST_PATH bool is_block_offset(const Page* pg, std::uint64_t n) noexcept {
  return n * pg->block_magic < pg->block_limit;
}

using PageFreeList = engine::TaggedFreeList<kSegmentShift>;

// The record with no blocks and no owner: the page map's sentinel for every slice
// fastpool does not own, and the heaps' placeholder current page.
extern FP_INTERNAL Page g_empty_page;

}  // namespace fastpool
