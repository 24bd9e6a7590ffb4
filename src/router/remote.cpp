// Frees of other heaps' blocks: the freeing thread's batch, and the owner's collection.
#include "router/heap.hpp"

namespace fastpool {

__thread RemoteBatch tls_remote __attribute__((tls_model("initial-exec"))) = {};

namespace heap {

void start_remote_batch(Heap* owner, void* p) noexcept {
  RemoteBatch& r = tls_remote;
  flush_remote();
  // Past the thread's exit hook nothing would flush a batch: send the block at once
  // (glibc frees some thread buffers after the TSD destructors).
  if (FP_UNLIKELY(r.exited)) return owner->remote.push(p);
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
  r.to = nullptr;
}

void collect_remote(Heap* h) noexcept {
  engine::FreeBlock* b = h->remote.take_all();
  while (b != nullptr) {
    engine::FreeBlock* next = b->next;
    free_local(h, page_of(b), b);
    b = next;
  }
}

}  // namespace heap
}  // namespace fastpool
