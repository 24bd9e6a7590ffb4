// The router: one heap per thread. A heap holds, per size class, a growing pool of
// pages (the class queue), the direct table the malloc fast path reads, its spans
// (router/spans.hpp) and the lock-free list where other threads' frees of its blocks
// land.
//
// Ownership: a heap belongs to the thread whose tls_heap points at it. When the thread
// exits, the heap is abandoned whole (pages, segments, remote list) and the next new
// thread adopts it, so blocks freed in between are reused, not leaked; until then live
// threads tidy it (router/registry.cpp). Heaps are never unmapped: a page's `owner` may
// be read by any thread at any time.
#pragma once

#include "fastpool/engine/atomic_free_list.hpp"
#include "fastpool/engine/growing_pool.hpp"
#include "router/size_class.hpp"
#include "router/spans.hpp"
#include "segment/page_map.hpp"

namespace fastpool {

// The growing engine's memory source for one class queue: new pages from the heap's
// spans. Its hooks keep `Page::owner`'s full bit in step with the queue's lists.
struct PageSource {
  using Chunk = Page;
  Heap* heap = nullptr;
  std::uint8_t size_class = 0;

  Page* grow(std::size_t current_capacity) noexcept;
  // Exhausted: every block is out, so the count is exact again.
  void on_full(Page* p) noexcept;
  void on_available(Page* p) noexcept;
};
using PageQueue = engine::GrowingBlockPool<PageSource>;

// A heap's statistics, merged on read by fp_get_stats (api/stats.cpp). Written only by
// whoever holds the heap (its owner, or the one thread tidying it while it is abandoned),
// on slow paths; read by any thread with relaxed loads.
// Invariant: classes[c].used == the sum of `accounted` over the heap's pages of class c,
// and a page's `accounted` equals its pool.used() whenever the page's owner word is
// heap | kOwnerCounted. A current page's counts as of when it became current; a page
// under its holder's thread word | kOwnerCounted lags by the frees the fast path counted
// in pool.used() alone (heap::account_current makes the caller's own exact, read_stats
// adds other heaps' lag).
struct HeapStats {
  struct Class {
    std::atomic<std::int64_t> used{0};  // blocks out
    std::atomic<std::int64_t> pages{0};
    std::atomic<std::int64_t> pages_full{0};
  };
  Class classes[kClassCount];
  std::atomic<std::uint64_t> remote_collected{0};  // blocks other threads freed, taken home
  // Hardened builds: sizes asked for, allocated minus freed by the owner (a block freed by
  // another thread counts there), on every malloc and free (secure/secure.cpp).
  std::atomic<std::int64_t> requested{0};
};
// One writer, so a relaxed load and store is enough (and no locked instruction).
inline void bump(std::atomic<std::int64_t>& c, std::int64_t d) noexcept {
  c.store(c.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
}

struct Heap {
  // current[c]: the page of class c the fast paths use without counting (owner word ==
  // the owning thread's thread_owner_word()), or g_empty_page. It is classes[c].current() while a
  // thread owns the heap; an abandoned heap has none. Owner only.
  Page* current[kClassCount];
  // Blocks of this heap's pages freed by other threads; the owner collects them. On a
  // cache line of its own: other threads write it, the owner writes everything else.
  alignas(64) engine::AtomicFreeList remote;
  // Blocks ever pushed onto `remote`, by the pushing threads: the line is theirs already
  // for the push, so the count costs no shared line of its own (statistics).
  std::atomic<std::uint64_t> remote_received{0};
  // Set by another thread's trim: the owner collects and purges on its next slow call.
  std::atomic<bool> trim_requested{false};
  alignas(64) PageQueue classes[kClassCount];
  HeapSpans spans;
  // Held by the owner around every pop from a page of a class past kMaxSmall (all of them
  // off the fast path, in alloc_class), and by trim_all while it purges the free blocks of
  // such current pages of a thread that may be idle (purge_idle_current): a block found
  // free stays free meanwhile. Taken before spans.lock.
  os::SpinLock big_pop_lock;
  HeapStats stats;
  // Classes of few blocks per page, bit c - kFirstFewBlockClass (page_spans.cpp): `released`,
  // its idle current page went back for fresh memory's sake; `kept`, it asked for a page
  // again after that (a buffer cycled, not one outgrown), so its page now stays. Owner only.
  std::uint64_t idle_released = 0;
  std::uint64_t idle_kept = 0;
  // `seen`: its current page was idle when a page of a class of many blocks last asked for
  // memory (release_idle_current lets it go the second time). Owner only.
  std::uint64_t idle_seen = 0;
  std::uint32_t slow_calls = 0;
  std::uint64_t next_maintenance_ms = 0;
  // Abandoned with its empty current pages kept at the front of their class queues
  // (counted, carved): since when; 0 when none are kept. The thread that adopts the heap
  // takes them as the current pages of the classes it uses (no span taken, nothing carved
  // again); those still unused go back after the purge delay (release_kept_pages).
  // Whoever holds the heap.
  std::uint64_t kept_since_ms = 0;
  Heap* next_registered = nullptr;  // written once, before the heap is published
  Heap* next_abandoned = nullptr;   // the registry's abandoned list (its lock guards them)
  Heap* prev_abandoned = nullptr;

  constexpr Heap() noexcept {
    for (Page*& p : current) p = &g_empty_page;
  }
};

// Live large blocks, process-wide (any thread may free or resize one).
struct LargeCounts {
  std::atomic<std::size_t> blocks{0};
  std::atomic<std::size_t> bytes{0};  // their spans
};
extern FP_INTERNAL LargeCounts g_large;

// The placeholder heap every thread starts with, owning nothing.
extern FP_INTERNAL Heap g_empty_heap;
extern FP_INTERNAL __thread Heap* tls_heap __attribute__((tls_model("initial-exec")));

// The owner word of h's counted pages (segment/page.hpp): the calling thread's word while
// h is its heap, so that its frees there take the fast path; else the heap's.
inline std::uintptr_t counted_word(const Heap* h) noexcept {
  auto base = h == tls_heap ? thread_owner_word() : reinterpret_cast<std::uintptr_t>(h);
  return base | kOwnerCounted;
}

// The direct table: tls_direct[size] is the current page of the class serving that size
// (up to kDirectMax), or g_empty_page; never null, so the malloc fast path needs no check. It
// lives in the thread (not the heap) to save the fast path a load; it mirrors the
// current pages of tls_heap's class queues (heap::refresh_direct keeps it so).
// A new thread's table is all g_empty_page: its first malloc misses into the slow path,
// which installs a real heap.
using DirectTable = std::array<Page*, kDirectSlots>;
extern FP_INTERNAL __thread DirectTable tls_direct __attribute__((tls_model("initial-exec")));

// The calling thread's batch of remote frees: first..last, `count` blocks of `to`'s.
// Only blocks of classes below kBatchedClasses are batched (at most kRemoteBatch of
// them, so an idle thread pins at most kRemoteBatch * kMaxSmall bytes); bigger ones
// are pushed at once.
struct RemoteBatch {
  Heap* to;
  engine::FreeBlock* first;
  engine::FreeBlock* last;
  std::uint32_t count;
  bool exit_hook;  // this thread's exit flushes the batch (its exit key is set)
  bool exited;     // the exit hook ran: no more batching, frees go straight out
};
inline constexpr std::uint32_t kRemoteBatch = 32;
extern FP_INTERNAL __thread RemoteBatch tls_remote __attribute__((tls_model("initial-exec")));

namespace heap {

// --- registry.cpp: heap lifecycle
// The calling thread's heap, creating or adopting one. Null when out of memory.
Heap* init_thread() noexcept;
// A thread past its exit hook that allocated again lets go of its heap at once.
void release_after_exit() noexcept;
// Sets the calling thread's exit key, so that its exit flushes its remote batch.
void arm_exit_hook() noexcept;
// Tidies up to `budget` abandoned heaps (remote frees collected, due purges done).
void tidy_abandoned(int budget) noexcept;
// Process-wide trim: every heap's free memory back to the OS. True if any was.
bool trim_all() noexcept;
std::size_t heap_count() noexcept;
std::size_t abandoned_count() noexcept;
std::uint64_t trim_count() noexcept;
// Calls f on every heap ever created (live and abandoned; heaps are never unmapped).
void for_each_heap(void (*f)(Heap*, void*), void* arg) noexcept;

// --- remote.cpp: frees of other heaps' blocks
void start_remote_batch(Heap* owner, void* p) noexcept;
void flush_remote() noexcept;
// Pushes one block onto owner's remote list at once (no batch).
void send_remote(Heap* owner, void* p) noexcept;
// A block of `owner`'s freed by another thread. Batched per destination heap in the
// freeing thread (one CAS per batch); the batch is flushed when full, when the
// destination changes, on the thread's allocation slow path and at thread exit.
// REQUIRES: the block's class is below kBatchedClasses.
FP_FAST_PATH void free_remote(Heap* owner, void* p) noexcept {
  RemoteBatch& r = tls_remote;
  if (FP_UNLIKELY(r.to != owner)) return start_remote_batch(owner, p);
  auto* b = static_cast<engine::FreeBlock*>(p);
  b->next = r.first;
  r.first = b;
  if (FP_UNLIKELY(++r.count == kRemoteBatch)) flush_remote();
}
void collect_remote(Heap* h) noexcept;
// Blocks ever sent to other heaps (batches and single pushes), process-wide: the sum of
// every heap's remote_received.
std::uint64_t remote_sent() noexcept;

// --- heap.cpp: pages and blocks
// Blocks in one page of class c.
std::size_t page_capacity(int c) noexcept;
// Housekeeping, amortised over slow calls: due purges, abandoned heaps, caches.
// `force`: everything free goes back now (trim).
void maintain(Heap* h, bool force) noexcept;
void* small_alloc(Heap* h, int size_class) noexcept;
// A large block (kMaxClassSize < size <= kMaxLarge, any alignment up to a slice).
void* large_alloc(Heap* h, std::size_t size, bool* zeroed) noexcept;
// Frees a large block; any thread may (its heap's spans are locked).
void free_large(Page* pg) noexcept;
// Resizes a large block in place to `size` bytes (growing into free slices after it,
// shrinking by giving slices back). Any thread may. False when it cannot.
bool large_resize(Page* pg, std::size_t size) noexcept;
// Frees p whose page record (first slice) is pg, from the owning thread.
void free_local(Heap* h, Page* pg, void* p) noexcept;
// A counted page of h whose last block came back: its span goes back at once (and is
// purged at once with `purge_now`).
void page_emptied(Heap* h, Page* pg, bool purge_now = false) noexcept;
// Does nothing unless h is the calling thread's heap.
void refresh_direct(Heap* h, int size_class) noexcept;
// The calling thread's direct table back to all g_empty_page.
void clear_direct() noexcept;
// Lets go of h's current pages (made counted; empty ones go back, or with `keep_empty`
// stay at the front of their class queues).
void drop_current_pages(Heap* h, bool keep_empty = false) noexcept;
// The kept pages (Heap::kept_since_ms) still counted and unused go back, purged at once
// (they waited already), once the purge delay has passed since h was abandoned, or with
// `now_too` at once. REQUIRES: the caller holds h (its owner, or a tidier holding it off
// the abandoned list).
void release_kept_pages(Heap* h, std::uint64_t now, bool now_too) noexcept;
// h's current page of its class stops being current: its count made exact, its counted
// flag set. REQUIRES: pg is h->current[pg->size_class] (so its free list is h's alone).
void make_counted(Heap* h, Page* pg) noexcept;
// Brings h->stats up to date with pg's block count (see HeapStats).
void account(Heap* h, Page* pg) noexcept;
// The calling thread's heap: its current and counted pages' counts made exact and
// accounted.
void account_current(Heap* h) noexcept;
// Once no thread holds h (the holder let go, or is gone in a forked child): h's pages
// under a thread's counted word get the heap's, accounted. REQUIRES: h is not tls_heap.
void release_counted_words(Heap* h) noexcept;

// --- page_spans.cpp
// A span of `count` slices for a page of `size_class` (-1: a large block): resident free
// slices first, then those of the heap's idle current pages, fresh memory last. *zeroed:
// the span reads as zero. Null on OOM.
Page* take_span(Heap* h, int count, PageKind kind, bool* zeroed, int size_class) noexcept;
// Any heap, from any thread (trim): the free blocks of its current pages of classes past
// kMaxSmall purged but for their first bytes (link and free tag), so a thread gone idle
// does not keep its last big blocks resident. Skipped while the owner is popping one.
// Returns the bytes purged.
std::size_t purge_idle_current(Heap* h) noexcept;

}  // namespace heap
}  // namespace fastpool
