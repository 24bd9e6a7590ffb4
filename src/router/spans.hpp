// A heap's spans: which of its segments have free slices, indexed by the longest free
// run so that finding room for a span is one bit scan, not a walk over segments; and
// the queue of segments whose freed slices wait for their purge.
//
// Guarded by `lock`: the owner takes it around every span operation (spans change when
// pages are made or emptied and when large blocks come and go, never on a fast path),
// and so may any other thread: a large block is freed or resized by whichever thread
// holds it, and trim purges idle heaps' spans directly.
#pragma once

#include <cstdint>

#include "fastpool/engine/chunk_list.hpp"
#include "os/spin_lock.hpp"
#include "segment/segment.hpp"

namespace fastpool {

struct HeapSpans {
  os::SpinLock lock;
  // bins[k]: segments whose longest free run is k slices (bins[0]: no free slice).
  // Invariant: every segment of the heap is on exactly the bin its `bin` field names,
  // and bit k of `nonempty` is set iff bins[k] is non-empty.
  engine::ChunkList<Segment> bins[kSlicesPerSegment];
  std::uint64_t nonempty = 0;
  // Segments with dirty slices, by purge time (FIFO: the delay is the same for all);
  // exactly the segments whose `queued` is set.
  engine::ChunkList<Segment, &Segment::purge_next, &Segment::purge_prev> purge_queue;
  std::size_t segments = 0;
};

namespace spans {

// A span of `count` slices (1..kMaxSpan): resident free slices of the segments freed
// into last, else the best-fitting segment's, else a new segment's. *zeroed: the span
// reads as zero. Null on OOM, and with `resident_only` when no resident run fits.
Page* take(Heap* h, int count, PageKind kind, bool* zeroed, bool resident_only = false) noexcept;
// Frees the span of pg; its slices are purged after the delay, or at once with
// `purge_now`.
void free(Heap* h, Page* pg, bool purge_now = false) noexcept;
// Grows pg's span to `count` slices when the slices after it are free.
bool grow(Heap* h, Page* pg, int count) noexcept;
// Gives the slices of pg's span past the first `count` back.
void shrink(Heap* h, Page* pg, int count) noexcept;
// Purges (or, when wholly free, releases) up to `budget` segments whose delay has
// passed. Returns true when more are due.
bool purge_due(Heap* h, std::uint64_t now_ms, int budget) noexcept;
// Purges every dirty slice now and releases every wholly free segment. Returns true
// when anything was given back.
bool purge_all(Heap* h) noexcept;

}  // namespace spans
}  // namespace fastpool
