// Segments: memory comes from the OS in 4 MiB segments aligned to 4 MiB, cut into 64 KiB
// slices. The segment's header (in slice 0) holds one Page record per slice, so any
// pointer finds its page by masking: no search, no global map, no lock.
//
// Glossary
//   segment  a 4 MiB aligned mapping owned by one thread heap (or a huge block's own
//            mapping, of any size, with the same header shape)
//   slice    64 KiB; the unit a segment hands out
//   page     a run of slices serving one size class (a FixedBlockPool of equal blocks)
//            or one large block; its record sits at the index of its first slice
//   span     the slices of one page
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "fastpool/engine/fixed_pool.hpp"

namespace fastpool {

struct Heap;

inline constexpr int kSegmentShift = 22;
inline constexpr std::size_t kSegmentSize = std::size_t{1} << kSegmentShift;
inline constexpr int kSliceShift = 16;
inline constexpr std::size_t kSliceSize = std::size_t{1} << kSliceShift;
inline constexpr int kSlicesPerSegment = static_cast<int>(kSegmentSize / kSliceSize);  // 64
inline constexpr std::size_t kMaxLarge = kSegmentSize / 2;  // above: huge, a mapping of its own
inline constexpr std::size_t kMaxAlignment = kSegmentSize / 2;

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

// Page record: one per slice in the segment header; a page's record is its first slice's.
// Owner-written; `owner` is read by every thread's free.
// Invariants:
//   kind == small:  pool holds blocks of class `size_class`; the page is on its heap's
//                   class queue; owner == heap | flags as above.
//   kind == large:  pool holds one block of slice_count slices, handed out at
//                   start + large_offset; owner == heap|kOwnerCounted|kOwnerFull.
//   kind == huge:   pages[0] of a huge segment; owner == 0.
//   kind == unused: owner == 0.
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
  std::uint32_t large_offset = 0;  // large: the handed-out pointer's offset from the start
  // small: ceil(2^40 / block size), so that checking a freed pointer is the start of a
  // block is a multiply, not a division: offset / size == (offset * magic) >> 40 exactly
  // for every offset below 2^22 (a page spans at most 4 MiB).
  std::uint64_t block_magic = 0;
};
static_assert(sizeof(Page) == 128);

// The record with no blocks and no owner: page-map entry for address 0 (so free(NULL)
// needs no test of its own on the fast path) and the heaps' placeholder current page.
extern FP_INTERNAL Page g_empty_page;

enum class SegmentKind : std::uint32_t { normal = 0x5e6a0001, huge = 0x5e6a0002 };

struct Segment {
  SegmentKind kind;            // doubles as the magic number checked on a suspicious free
  std::size_t mapped_size;     // bytes of the mapping
  Heap* heap;                  // owner (normal segments)
  std::uint64_t free_slices;   // bit i: slice i is free (owner only)
  std::uint64_t dirty_slices;  // free slices not yet purged
  std::uint64_t purge_at_ms;   // when dirty slices may be purged
  Segment* next;               // heap's segment list
  Segment* prev;
  std::size_t huge_usable;  // huge: bytes from the block's start to the mapping's end
  alignas(128) Page pages[kSlicesPerSegment];
};
static_assert(sizeof(Segment) <= kSliceSize, "the header must fit in slice 0");

FP_FAST_PATH Segment* segment_of(const void* p) noexcept {
  return reinterpret_cast<Segment*>(reinterpret_cast<std::uintptr_t>(p) & ~(kSegmentSize - 1));
}
inline char* slice_start(Segment* s, int i) noexcept {
  return reinterpret_cast<char*>(s) + static_cast<std::size_t>(i) * kSliceSize;
}
inline int page_index(Segment* s, Page* pg) noexcept {
  return static_cast<int>(pg - s->pages);
}
// The first byte of a page's span, from its record alone (records live in the header of
// the segment they describe).
inline char* page_start(Page* pg) noexcept {
  Segment* s = segment_of(pg);
  return slice_start(s, page_index(s, pg));
}

// The page map: one entry per 64 KiB slice of the 47-bit user address space (a 16 GiB
// reservation, touched only where segments live): the record of the page covering that
// slice, null where fastpool has nothing. free(p) is one shift and one load away from
// its page; interior slices of a span lead straight to the span's record.
// Before the first segment exists it is a one-entry table, enough for free(NULL).
extern FP_INTERNAL Page** g_page_map;  // written once (boot table -> real map), then only read

FP_FAST_PATH Page* page_of(const void* p) noexcept {
  return __atomic_load_n(&g_page_map,
                         __ATOMIC_RELAXED)[reinterpret_cast<std::uintptr_t>(p) >> kSliceShift];
}

namespace segment {

// A new normal segment for `heap`, all slices but the header free. Null on OOM.
Segment* acquire(Heap* heap) noexcept;
// Gives a wholly free normal segment back (to the cache or the OS).
void release(Segment* s) noexcept;

// Finds `count` contiguous free slices (only among the dirty ones, still resident, with
// `dirty_only`); returns the first index or -1.
int find_free_run(const Segment* s, int count, bool dirty_only = false) noexcept;
// Marks [first, first+count) as one page of `kind`; returns its record.
Page* take_span(Segment* s, int first, int count, PageKind kind) noexcept;
// Extends the span of `pg` to `count` slices if the slices after it are free.
bool grow_span(Segment* s, Page* pg, int count) noexcept;
// Frees the span of `pg` (first slice); it becomes dirty and purgeable after the delay.
void free_span(Segment* s, Page* pg, std::uint64_t now_ms) noexcept;
// Purges dirty slices when their delay has passed (or `force`). Returns true if any.
bool purge(Segment* s, std::uint64_t now_ms, bool force) noexcept;
bool all_free(const Segment* s) noexcept;

// A huge block: its own mapping with a segment header. Null on OOM.
void* huge_alloc(std::size_t size, std::size_t alignment, bool* zeroed) noexcept;
void huge_free(Segment* s) noexcept;

// True when p lies in memory fastpool mapped; cheap, lock-free, reads no foreign memory.
bool owns(const void* p) noexcept;

void trim_cache() noexcept;
void fork_prepare() noexcept;
void fork_parent() noexcept;
void fork_child() noexcept;

struct Counters {
  std::atomic<std::size_t> segments{0};
  std::atomic<std::size_t> bytes_mapped{0};
  std::atomic<std::size_t> huge{0};
};
extern Counters counters;

}  // namespace segment
}  // namespace fastpool
