// ChunkChain: T slots for one thread in a chain of chunks that grows by a GrowthStrategy,
// up to a maximum: GrowingPool as is, and the grown part of a ThreadSafePool behind its
// lock. The chain is the engine's GrowingBlockPool; each chunk is one block from the
// fastpool engine: [chunk header | strategy index | slots].
//
// A slot's chunk is found in O(1) for any number of chunks: the current chunk, or else the
// engine's block of the slot (fp_block_of), whose start is the chunk header.
//
// Invariants: in_use_ is the number of slots handed out over all chunks; base_ + capacity
// never exceeds max_capacity_; the chain shrinks only by shrink_to_fit() or the
// shrink_when_empty policy, by whole empty chunks other than the constructor's; a
// pre-initialised chain has an object in every slot of every chunk.
#pragma once

#include <algorithm>
#include <exception>
#include <limits>
#include <new>
#include <utility>

#include "fastpool/detail/slot_run.hpp"
#include "fastpool/engine/growing_pool.hpp"

namespace fastpool::detail {
FP_MODE_BEGIN

template <class T, SlotStrategy Strategy, Literal Kind>
class ChunkChain {
  struct Chunk {
    typename Strategy::block_pool pool;
    Chunk* next = nullptr;
    Chunk* prev = nullptr;
    bool full = false;
    bool first = false;           // the constructor's chunk: kept by shrink_to_fit
    const void* owner = nullptr;  // the chain, so that a foreign slot is told apart
    LiveBits live;
  };
  struct Source {
    using Chunk = ChunkChain::Chunk;
    ChunkChain* owner = nullptr;
    Chunk* grow(std::size_t current_capacity) noexcept { return owner->grow(current_capacity); }
    void on_full(Chunk*) noexcept {}
    void on_available(Chunk*) noexcept {}
  };

 public:
  // Effects: a chain of config.capacity() slots in one chunk; with `empty`, of none: its
  // first chunk comes with the first allocation, as a growth step from `base` slots
  // (those a ThreadSafePool holds in its run). Throws: std::bad_alloc; what the
  // initializer throws (pre_initialize).
  explicit ChunkChain(const PoolConfig<T>& config, bool empty = false, std::size_t base = 0)
      : layout_(
            make_layout<T>(config.alignment(), Strategy::links_in_slot, config.pre_initialize())),
        objects_(config),
        growth_(config.growth()),
        base_(base),
        max_capacity_(config.max_capacity()),
        shrink_when_empty_(config.shrink_when_empty()),
        engine_(Source{this}) {
    if (empty) return;
    Chunk* c = make_chunk(config.capacity());
    c->first = true;
    engine_.adopt(c);
  }
  ChunkChain(const ChunkChain&) = delete;
  ChunkChain& operator=(const ChunkChain&) = delete;
  ~ChunkChain() {
    engine_.for_each_chunk([this](Chunk* c) { destroy_chunk(c); });
  }

  std::size_t capacity() const noexcept { return engine_.capacity(); }
  std::size_t max_capacity() const noexcept { return max_capacity_; }
  std::size_t in_use() const noexcept { return in_use_; }
  std::size_t chunk_count() const noexcept { return engine_.chunk_count(); }
  std::size_t growth_count() const noexcept { return engine_.growth_count(); }
  PoolStatistics statistics() const noexcept {
    return counters_.snapshot(capacity(), in_use_, counters_.peak, growth_count());
  }

  // Effects: gives every chunk with no object in use back to the system, but the first.
  // Returns: the number of slots given back.
  std::size_t shrink_to_fit() noexcept {
    std::size_t before = capacity();
    engine_.for_each_chunk([this](Chunk* c) {
      if (!c->first && c->pool.unused()) release_chunk(c);
    });
    return before - capacity();
  }

  // Throws: what the growth function or the initializer threw while growing.
  FP_FAST_PATH void* take_slot() {
    void* slot = engine_.allocate();
    if (FP_UNLIKELY(slot == nullptr)) return exhausted();
    ++in_use_;
    counters_.on_take(in_use_, true);
    if constexpr (kChecked)  // the engine allocates from its current chunk
      if (Chunk* c = engine_.current(); !c->live.mark(c->pool.index_of(slot)))
        engine::fatal(PoolMessage<Kind, T, "internal error: slot handed out twice">::c_str(), slot);
    return slot;
  }
  FP_FAST_PATH void give_slot(void* slot) noexcept {
    --in_use_;
    if (Chunk* c = engine_.current(); FP_LIKELY(c != nullptr && spans(c, slot)))
      return engine_.deallocate(c, slot);
    give_elsewhere(slot);
  }
  void undo_take(void* slot) noexcept {
    Chunk* c = chunk_of(slot);
    if constexpr (kChecked) c->live.unmark(c->pool.index_of(slot));
    counters_.on_undo();
    engine_.deallocate(c, slot);
    --in_use_;
  }
  // Slots of a chunk's never-used tail are not counted: no object ever came from them.
  bool owns_slot(const void* slot) const noexcept { return lookup(slot) != nullptr; }
  void check_release(void* slot, const T* object) noexcept {
    Chunk* c = lookup(slot);
    if (c == nullptr)
      engine::fatal(
          PoolMessage<Kind, T, "destroy of a pointer that is not from this pool">::c_str(), object);
    if (!c->live.unmark(c->pool.index_of(slot)))
      engine::fatal(PoolMessage<Kind, T, "double destroy">::c_str(), object);
  }
  Objects<T>& objects() noexcept { return objects_; }
  const Objects<T>& objects() const noexcept { return objects_; }
  SlotShape slot_shape() const noexcept { return {layout_.slot_size, kNoLink}; }

 private:
  FP_SLOW_PATH void* exhausted() {
    if (pending_) std::rethrow_exception(std::exchange(pending_, nullptr));
    counters_.on_failure();
    return nullptr;
  }
  // Into a chunk other than the current one: the only place a chunk can become empty
  // while another serves allocations.
  FP_SLOW_PATH void give_elsewhere(void* slot) noexcept {
    Chunk* c = chunk_of(slot);
    engine_.deallocate(c, slot);
    if (shrink_when_empty_ && !c->first && c->pool.unused()) {
      // One empty chunk is kept, so that a load swinging across a chunk boundary does not
      // grow and give back each time; a second one goes.
      if (spare_ == nullptr || spare_ == c || !spare_->pool.unused())
        spare_ = c;
      else
        release_chunk(c);
    }
  }

  static bool spans(const Chunk* c, const void* slot) noexcept {
    auto* s = static_cast<const char*>(slot);
    return s >= c->pool.start() && s < c->pool.end();
  }
  // The chunk of a slot of this chain: the header at the start of the engine block around
  // it. Under ASan the chunks come from the C allocator (detail/objects.hpp), so the
  // chain is walked instead.
  // REQUIRES: `slot` was handed out by this chain.
  Chunk* chunk_of(const void* slot) const noexcept {
    if constexpr (kAsan) return engine_.find(slot);
    return static_cast<Chunk*>(fp_block_of(slot));
  }
  // The chunk holding `slot`, or null when it is not a slot this chain handed out (a
  // block too small for a chunk header is not read at all).
  Chunk* lookup(const void* slot) const noexcept {
    if constexpr (kAsan) return engine_.find(slot);
    auto* c = static_cast<Chunk*>(fp_block_of(slot));
    if (c == nullptr || fp_usable_size(c) < sizeof(Chunk)) return nullptr;
    return c->owner == this && c->pool.contains(slot) ? c : nullptr;
  }
  void release_chunk(Chunk* c) noexcept {
    if (c == spare_) spare_ = nullptr;
    engine_.remove_unused(c);
    destroy_chunk(c);
  }

  // Called by the engine when every chunk is full. Returns null when the chain may not
  // grow, memory is out, or the growth function or initializer threw (kept in pending_
  // and rethrown by take_slot, since the engine's path is noexcept).
  Chunk* grow(std::size_t chain_capacity) noexcept {
    std::size_t current = base_ + chain_capacity;
    if (current >= max_capacity_) return nullptr;
    FP_TRY {
      std::size_t add = std::min(growth_.slots_to_add(current), max_capacity_ - current);
      if (add == 0) return nullptr;
      return make_chunk<false>(add);
    }
    FP_CATCH_ALL {
      pending_ = std::current_exception();
      return nullptr;
    }
  }

  std::size_t header_bytes() const noexcept {
    return round_up(sizeof(Chunk), std::max(layout_.align, alignof(Chunk)));
  }

  // Returns: a chunk of n slots; Throwing false: null when memory is out.
  // Throws: std::bad_alloc (Throwing); what the initializer throws.
  template <bool Throwing = true>
  Chunk* make_chunk(std::size_t n) {
    using Engine = typename Strategy::block_pool;
    std::size_t limit = std::numeric_limits<std::uint32_t>::max() / layout_.slot_size;
    if (n > limit) n = limit;  // one chunk's engine addresses at most 4 GiB
    std::size_t header = header_bytes();
    std::size_t index = round_up(Engine::index_bytes(n), layout_.align);
    std::size_t align = std::max(layout_.align, alignof(Chunk));
    std::size_t bytes = header + index + n * layout_.slot_size;
    void* memory = Throwing ? allocate_bytes(align, bytes) : try_allocate_bytes(align, bytes);
    if (memory == nullptr) return nullptr;
    char* slots = static_cast<char*>(memory) + header + index;
    std::size_t built = 0;
    Chunk* c = nullptr;
    FP_TRY {
      c = ::new (memory) Chunk;
      c->owner = this;
      c->live.init(n);
      if (objects_.pre_initialized())
        for (; built < n; ++built) objects_.prepare(slots + built * layout_.slot_size);
    }
    FP_CATCH_ALL {
      while (built > 0) objects_.dispose(slots + --built * layout_.slot_size);
      if (c != nullptr) c->~Chunk();
      release_bytes(memory);
      FP_RETHROW;
    }
    c->pool.init(slots, layout_.slot_size, n, static_cast<char*>(memory) + header,
                 layout_.link_offset);
    poison_slots(slots, n, slot_shape());
    return c;
  }

  void destroy_chunk(Chunk* c) noexcept {
    unpoison_slots(c->pool.block_at(0), c->pool.capacity(), slot_shape());
    if (objects_.pre_initialized())
      for (std::size_t i = 0; i < c->pool.capacity(); ++i) objects_.dispose(c->pool.block_at(i));
    c->~Chunk();
    release_bytes(c);
  }

  SlotLayout layout_;
  Objects<T> objects_;
  GrowthStrategy growth_;
  std::size_t base_;
  std::size_t max_capacity_;
  bool shrink_when_empty_;
  std::size_t in_use_ = 0;
  Counters counters_;
  std::exception_ptr pending_;
  Chunk* spare_ = nullptr;  // the empty chunk shrink_when_empty keeps, if any
  engine::GrowingBlockPool<Source> engine_;
};

FP_MODE_END
}  // namespace fastpool::detail
