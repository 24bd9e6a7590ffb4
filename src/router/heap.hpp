// The router: one heap per thread. A heap holds, per size class, a growing pool of
// pages (the class queue), the direct table the malloc fast path reads, and the
// lock-free list where other threads' frees of its blocks land.
//
// Ownership: a heap belongs to the thread whose tls_heap points at it. When the thread
// exits, the heap is abandoned whole (pages, segments, remote list) and the next new
// thread adopts it, so blocks freed in between are reused, not leaked. Heaps are never
// unmapped: a page's `owner` may be read by any thread at any time.
#pragma once

#include "fastpool/engine/atomic_free_list.hpp"
#include "fastpool/engine/growing_pool.hpp"
#include "router/size_class.hpp"
#include "segment/segment.hpp"

namespace fastpool {

// The growing engine's memory source for one class queue: new pages from the heap's
// segments. Its hooks keep `Page::owner`'s full bit in step with the queue's lists.
struct PageSource {
  using Chunk = Page;
  Heap* heap = nullptr;
  std::uint8_t size_class = 0;

  Page* grow(std::size_t current_capacity) noexcept;
  // Exhausted: every block is out, so the count is exact again.
  void on_full(Page* p) noexcept {
    p->pool.mark_all_used();
    p->owner.store(reinterpret_cast<std::uintptr_t>(heap) | kOwnerCounted | kOwnerFull,
                   std::memory_order_relaxed);
  }
  void on_available(Page* p) noexcept {
    p->owner.store(reinterpret_cast<std::uintptr_t>(heap) | kOwnerCounted,
                   std::memory_order_relaxed);
  }
};
using PageQueue = engine::GrowingBlockPool<PageSource>;

struct Heap {
  // current[c]: the page of class c the fast paths use without counting (owner word ==
  // this heap, no flags), or g_empty_page. It is classes[c].current() while a thread
  // owns the heap; an abandoned heap has none. Owner only.
  Page* current[kClassCount];
  // Blocks of this heap's pages freed by other threads; the owner collects them. On a
  // cache line of its own: other threads write it, the owner writes everything else.
  alignas(64) engine::AtomicFreeList remote;
  alignas(64) PageQueue classes[kClassCount];
  Segment* segments = nullptr;       // segments with a free slice; owner only
  Segment* full_segments = nullptr;  // segments without one; owner only
  std::uint32_t slow_calls = 0;
  std::uint64_t next_maintenance_ms = 0;
  bool abandoned = false;  // guarded by the heap registry lock
  Heap* next_registered = nullptr;
  Heap* next_abandoned = nullptr;

  constexpr Heap() noexcept {
    for (Page*& p : current) p = &g_empty_page;
  }
};

// The placeholder heap every thread starts with, owning nothing.
extern FP_INTERNAL Heap g_empty_heap;
extern FP_INTERNAL __thread Heap* tls_heap __attribute__((tls_model("initial-exec")));

// The direct table: tls_direct[(size + 7) / 8] is the current page of the class serving
// that size, or g_empty_page; never null, so the malloc fast path needs no check. It
// lives in the thread (not the heap) to save the fast path a load; it mirrors the
// current pages of tls_heap's class queues (heap::refresh_direct keeps it so).
// A new thread's table is all g_empty_page: its first malloc misses into the slow path,
// which installs a real heap.
using DirectTable = std::array<Page*, kDirectSlots>;
extern FP_INTERNAL __thread DirectTable tls_direct __attribute__((tls_model("initial-exec")));

// The calling thread's batch of remote frees: first..last, `count` blocks of `to`'s.
struct RemoteBatch {
  Heap* to;
  engine::FreeBlock* first;
  engine::FreeBlock* last;
  std::uint32_t count;
  bool exit_hook;  // this thread's exit flushes the batch (its exit key is set)
};
inline constexpr std::uint32_t kRemoteBatch = 32;
extern FP_INTERNAL __thread RemoteBatch tls_remote __attribute__((tls_model("initial-exec")));

namespace heap {

// The calling thread's heap, creating or adopting one. Null when out of memory.
Heap* init_thread() noexcept;
void collect_remote(Heap* h) noexcept;
// Releases unused pages and purgeable memory; `force` ignores the purge delay.
void maintain(Heap* h, bool force) noexcept;
void* small_alloc(Heap* h, int size_class) noexcept;
void* large_alloc(Heap* h, std::size_t size, std::size_t alignment) noexcept;
void start_remote_batch(Heap* owner, void* p) noexcept;
void flush_remote() noexcept;

// A block of `owner`'s freed by another thread. Batched per destination heap in the
// freeing thread (one CAS per batch); the batch is flushed when full, when the
// destination changes, on the thread's allocation slow path and at thread exit.
FP_FAST_PATH void free_remote(Heap* owner, void* p) noexcept {
  RemoteBatch& r = tls_remote;
  if (FP_UNLIKELY(r.to != owner)) return start_remote_batch(owner, p);
  auto* b = static_cast<engine::FreeBlock*>(p);
  b->next = r.first;
  r.first = b;
  if (FP_UNLIKELY(++r.count == kRemoteBatch)) flush_remote();
}
// Grows a large block of h in place to `size` bytes when the slices after it are free.
bool large_grow_in_place(Heap* h, Page* pg, std::size_t size) noexcept;
// Frees p whose page record (first slice) is pg, from the owning thread.
void free_local(Heap* h, Page* pg, void* p) noexcept;
// Does nothing unless h is the calling thread's heap.
void refresh_direct(Heap* h, int size_class) noexcept;
std::size_t heap_count() noexcept;

}  // namespace heap
}  // namespace fastpool
