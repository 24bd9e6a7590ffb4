// Segments: memory for small and large blocks comes from the OS in 4 MiB segments
// aligned to 4 MiB, cut into 64 slices of 64 KiB. The segment's header (in slice 0)
// holds one Page record per slice; the page map leads every slice of a span to the
// record of its first slice. Huge blocks have mappings of their own (segment/huge.hpp).
//
// A segment fresh from the OS is inaccessible (PROT_NONE) but for its header: slices are
// opened, in address order and a few at a time, when a span first reaches them. So the
// address space a heap has not used yet is charged to nothing (vm.overcommit_memory=2),
// stays out of core files, and a runaway write past the used part faults at once.
//
// A segment belongs to one heap. Its bitmaps and links are the heap's span state,
// guarded by the heap's span lock (router/spans.hpp); the segment layer only keeps the
// bitmaps and the map consistent.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "segment/page.hpp"

namespace fastpool {

inline constexpr std::size_t kSegmentSize = std::size_t{1} << kSegmentShift;
inline constexpr int kSlicesPerSegment = static_cast<int>(kSegmentSize / kSliceSize);  // 64
inline constexpr int kMaxSpan = kSlicesPerSegment - 1;  // slice 0 holds the header

inline constexpr std::uint32_t kSegmentMagic = 0x5e6a0001;

struct Segment {
  std::uint32_t magic;  // kSegmentMagic while mapped for a heap
  Heap* heap;           // owner
  // Bit i: slice i is free. dirty ⊆ free: free slices not purged yet (resident, not
  // known to be zero); a free slice that is not dirty reads as zero.
  std::uint64_t free_slices;
  std::uint64_t dirty_slices;
  // Hardened builds: free slices a freed large block left inaccessible (PROT_NONE) until
  // they are taken again; sealed ⊆ free. Always 0 otherwise, and in a released segment.
  std::uint64_t sealed_slices;
  // Slices [fresh_from, 64) have never been accessible: PROT_NONE, free, zero, not dirty,
  // not sealed. Only grows, also while the segment waits in the cache.
  std::uint8_t fresh_from;
  std::uint64_t purge_at_ms;  // when the dirty slices may be purged
  Segment* next;              // the heap's span-index bin (by longest free run)
  Segment* prev;
  Segment* purge_next;  // the heap's purge queue (segments with dirty slices, by time)
  Segment* purge_prev;
  std::uint8_t bin;  // longest free run, the bin it is filed in
  bool queued;       // on the purge queue
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
// The first byte of a small or large page's span, from its record alone.
inline char* page_start(Page* pg) noexcept {
  Segment* s = segment_of(pg);
  return slice_start(s, page_index(s, pg));
}

namespace segment {

// Slices [first, first + count) as bits of a segment's slice masks.
constexpr std::uint64_t run_mask(int first, int count) noexcept {
  std::uint64_t m = count >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << count) - 1);
  return m << first;
}

// A new segment for `heap`, all slices but the header free and zero. Null on OOM.
// `first_span`, `kind`: the span the caller takes first (at slice 1), opened with the
// header.
Segment* acquire(Heap* heap, int first_span, PageKind kind) noexcept;
// Gives a wholly free segment back (purged to the cache, or to the OS).
void release(Segment* s) noexcept;
bool all_free(const Segment* s) noexcept;

// The first index of `count` contiguous free slices (only dirty ones with `dirty_only`),
// or -1.
int find_free_run(const Segment* s, int count, bool dirty_only = false) noexcept;
// The longest run of free slices.
int longest_free_run(const Segment* s) noexcept;
// Marks [first, first+count) as one page of `kind`; returns its record. *zeroed: no
// slice of it was dirty, so the span reads as zero. Null when its slices cannot be made
// accessible (fresh or sealed ones; out of commit or mappings): the span stays free.
Page* take_span(Segment* s, int first, int count, PageKind kind, bool* zeroed) noexcept;
// Extends the span of `pg` to `count` slices if the slices after it are free.
bool grow_span(Segment* s, Page* pg, int count) noexcept;
// Gives the slices of `pg`'s span past the first `count` back (they become dirty).
void shrink_span(Segment* s, Page* pg, int count) noexcept;
// Frees the span of `pg`; its slices become dirty.
void free_span(Segment* s, Page* pg) noexcept;
// Purges every dirty slice.
void purge(Segment* s) noexcept;
// Purges the dirty slices among `mask`'s (one madvise per run).
void purge_slices(Segment* s, std::uint64_t mask) noexcept;

void trim_cache() noexcept;
// Bytes of empty segments kept for reuse.
std::size_t cached_bytes() noexcept;
// Runs f(arg) while no segment can be unmapped, so that f may read any mapped segment's
// pages (api/stats.cpp counts other threads' current pages). Holds this layer's mutex.
void with_segments_held(void (*f)(void*), void* arg) noexcept;
// This layer's one mutex, held across fork by router/registry.cpp.
pthread_mutex_t& fork_lock() noexcept;

struct Counters {
  std::atomic<std::size_t> segments{0};
  std::atomic<std::size_t> bytes_mapped{0};  // segments and huge mappings
  std::atomic<std::size_t> released{0};      // bytes ever purged or unmapped
  std::atomic<std::size_t> purges{0};        // madvise and munmap calls that released them

  void count_release(std::size_t bytes) noexcept {
    released.fetch_add(bytes, std::memory_order_relaxed);
    purges.fetch_add(1, std::memory_order_relaxed);
  }
};
extern Counters counters;

}  // namespace segment
}  // namespace fastpool
