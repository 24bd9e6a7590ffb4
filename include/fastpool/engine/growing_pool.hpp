// The growing engine: a chain of fixed pools (chunks) of one block size that grows one
// chunk at a time, as its Source decides, and can give wholly unused chunks back.
// A size class of a thread heap is one GrowingBlockPool of pages; the typed
// GrowingPool<T> is another, over chunks of its own storage.
//
// Source requirements (a policy object held by value):
//   using Chunk = ...;   // has `pool` (a block pool with FixedBlockPool's interface),
//                        // `Chunk* next; Chunk* prev; bool full;`
//   Chunk* grow(std::size_t current_capacity);  // a new initialised chunk, or null
//                                               // (maximum reached, out of memory)
//   void on_full(Chunk*); void on_available(Chunk*);  // state-change hooks
//
// Invariants: every chunk is on exactly one of available_ (may have a free block) or
// full_ (had none when last looked at; `chunk->full` set); capacity_ is the sum of the
// chunks' capacities.
#pragma once

#include "fastpool/engine/chunk_list.hpp"
#include "fastpool/engine/fixed_pool.hpp"

namespace fastpool::engine {

template <class Source>
class GrowingBlockPool {
 public:
  using Chunk = typename Source::Chunk;

  GrowingBlockPool() = default;
  explicit GrowingBlockPool(Source source) noexcept : source_(static_cast<Source&&>(source)) {}

  Source& source() noexcept { return source_; }
  // The chunk allocations are served from; null before the first growth.
  Chunk* current() const noexcept { return available_.front(); }
  // Calls f(chunk) for every chunk with free blocks or tail (current() first).
  template <class F>
  void for_each_available(F&& f) noexcept {
    available_.for_each(f);
  }

  // The front's free list; its tail only in allocate_slow, after other chunks' free blocks.
  FP_FAST_PATH void* allocate() noexcept {
    if (Chunk* c = available_.front(); FP_LIKELY(c != nullptr))
      if (void* b = pop_front_free(c); FP_LIKELY(b != nullptr)) return b;
    return allocate_slow();
  }

  // REQUIRES: `block` was handed out by `chunk` of this pool.
  FP_FAST_PATH void deallocate(Chunk* chunk, void* block) noexcept {
    chunk->pool.deallocate(block);
    if (FP_UNLIKELY(chunk->full)) make_available(chunk);
  }

  // Moves a chunk that regained free blocks (say by collected remote frees) back to
  // the available list, behind the current chunk.
  void make_available(Chunk* c) noexcept {
    FP_ASSERT(c->full);
    full_.remove(c);
    c->full = false;
    available_.push_back(c);
    source_.on_available(c);
  }

  // Unlinks a chunk with no block in use; the caller gives its memory back.
  void remove_unused(Chunk* c) noexcept {
    FP_ASSERT(c->pool.unused());
    (c->full ? full_ : available_).remove(c);
    capacity_ -= c->pool.capacity();
  }

  // Adds a chunk made elsewhere (e.g. pages inherited from another heap).
  void adopt(Chunk* c) noexcept {
    capacity_ += c->pool.capacity();
    if (c->full)
      full_.push_back(c);
    else
      available_.push_back(c);
  }

  FP_SLOW_PATH void* allocate_slow() noexcept {
    while (Chunk* c = available_.front()) {
      // Where the engine tells its free list from its untouched tail, the next chunk's
      // free blocks go before this one's tail: memory touched already is reused before
      // more is (chunks regain blocks behind the front, and an empty one kept for later
      // may be at the front). The front goes behind, tail and all.
      if constexpr (kTellsTail) {
        if (void* b = c->pool.pop_free()) return b;
        if (Chunk* next = c->next; next != nullptr && next->pool.has_free_list()) {
          available_.remove(c);
          available_.push_back(c);
          continue;
        }
      }
      if (void* b = c->pool.allocate()) return b;
      available_.remove(c);
      c->full = true;
      full_.push_front(c);
      source_.on_full(c);
    }
    Chunk* c = source_.grow(capacity_);
    if (c == nullptr) return nullptr;
    capacity_ += c->pool.capacity();
    ++growth_count_;
    c->full = false;
    available_.push_front(c);
    return c->pool.allocate();
  }

  // The chunk holding `p`, or null. O(chunks): for pools that cannot find it by address.
  Chunk* find(const void* p) const noexcept {
    for (Chunk* c = available_.front(); c != nullptr; c = c->next)
      if (c->pool.contains(p)) return c;
    for (Chunk* c = full_.front(); c != nullptr; c = c->next)
      if (c->pool.contains(p)) return c;
    return nullptr;
  }

  template <class F>
  void for_each_chunk(F&& f) {
    available_.for_each(f);
    full_.for_each(f);
  }

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t chunk_count() const noexcept { return available_.size() + full_.size(); }
  std::size_t growth_count() const noexcept { return growth_count_; }

 private:
  // The engine tells its free list from its untouched tail (FixedBlockPool, LinkedBlockPool).
  static constexpr bool kTellsTail = requires(Chunk * c) { c->pool.has_free_list(); };
  FP_FAST_PATH static void* pop_front_free(Chunk* c) noexcept {
    if constexpr (kTellsTail)
      return c->pool.pop_free();
    else
      return c->pool.allocate();
  }

  ChunkList<Chunk> available_;
  ChunkList<Chunk> full_;
  std::size_t capacity_ = 0;
  std::size_t growth_count_ = 0;
  Source source_{};
};

}  // namespace fastpool::engine
