// Frees of other heaps' blocks: the freeing thread's batch, and the owner's collection.
#include "router/heap.hpp"

namespace fastpool {

__thread RemoteBatch tls_remote __attribute__((tls_model("initial-exec"))) = {};

namespace heap {

void send_remote(Heap* owner, void* p) noexcept {
  owner->remote.push(p);
  owner->remote_received.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t remote_sent() noexcept {
  std::uint64_t n = 0;
  for_each_heap(
      [](Heap* h, void* sum) {
        *static_cast<std::uint64_t*>(sum) += h->remote_received.load(std::memory_order_relaxed);
      },
      &n);
  return n;
}

void start_remote_batch(Heap* owner, void* p) noexcept {
  RemoteBatch& r = tls_remote;
  flush_remote();
  // Past the thread's exit hook nothing would flush a batch: send the block at once
  // (glibc frees some thread buffers after the TSD destructors).
  if (FP_UNLIKELY(r.exited)) return send_remote(owner, p);
  if (!r.exit_hook) arm_exit_hook();
  auto* b = static_cast<engine::FreeBlock*>(p);
  b->next = nullptr;
  r.to = owner;
  r.first = r.last = b;
  r.count = 1;
}

void flush_remote() noexcept {
  RemoteBatch& r = tls_remote;
  if (r.to == nullptr) return;
  r.to->remote.push_chain(r.first, r.last);
  r.to->remote_received.fetch_add(r.count, std::memory_order_relaxed);
  r.to = nullptr;
}

// The owner's frees of collected blocks. Two cases are unrolled, as in free_other_page:
// a block of the calling thread's current page (pushed uncounted) and one of a counted
// page that does not empty (pushed and counted); the rest (full pages, pages that empty,
// an abandoned heap tidied by another thread) take free_local.
void collect_remote(Heap* h) noexcept {
  engine::FreeBlock* b = h->remote.take_all();
  auto counted = counted_word(h);
  bool mine = h == tls_heap;
  std::int64_t n = 0;
  for (; b != nullptr; ++n) {
    engine::FreeBlock* next = b->next;
    Page* pg = page_of(b);
    auto owner = pg->owner.load(std::memory_order_relaxed);
    if (mine && is_thread_owner(owner)) {
      pg->pool.push_uncounted(b);
    } else if (owner == counted && pg->pool.used() > 1) {
      pg->pool.deallocate(b);
      --pg->accounted;  // heap::account, unrolled: one block fewer
      bump(h->stats.classes[pg->size_class].used, -1);
    } else {
      free_local(h, pg, b);
    }
    b = next;
  }
  if (n != 0)
    h->stats.remote_collected.store(h->stats.remote_collected.load(std::memory_order_relaxed) + n,
                                    std::memory_order_relaxed);
}

}  // namespace heap
}  // namespace fastpool
