// GrowingPool<T>: T slots for one thread in a chain of chunks that grows by the config's
// GrowthStrategy, up to max_capacity. The chain is the engine's GrowingBlockPool; each
// chunk is one block from the fastpool engine: [chunk header | strategy index | slots].
//
// A slot's chunk is found in O(1) for any number of chunks: the current chunk, or else the
// engine's block of the slot (fp_block_of), whose start is the chunk header.
//
// Invariants: in_use_ is the number of slots handed out over all chunks; capacity never
// exceeds max_capacity; it shrinks only by shrink_to_fit() or the shrink_when_empty
// policy, by whole empty chunks other than the first; a pre-initialised pool has an
// object in every slot of every chunk.
#pragma once

#include <algorithm>
#include <exception>
#include <limits>
#include <new>

#include "fastpool/detail/pool_front.hpp"
#include "fastpool/detail/slot_run.hpp"
#include "fastpool/engine/growing_pool.hpp"

namespace fastpool {
FP_MODE_BEGIN

// Single-threaded. Allocation and release are O(1) whatever the number of chunks.
template <class T, SlotStrategy Strategy = FreeListStrategy>
class GrowingPool : public detail::PoolFront<GrowingPool<T, Strategy>, T, false> {
  struct Chunk {
    typename Strategy::block_pool pool;
    Chunk* next = nullptr;
    Chunk* prev = nullptr;
    bool full = false;
    bool first = false;           // made by the constructor: kept by shrink_to_fit
    const void* owner = nullptr;  // the pool, so that a foreign slot is told apart
    detail::LiveBits live;
  };
  struct Source {
    using Chunk = GrowingPool::Chunk;
    GrowingPool* owner = nullptr;
    Chunk* grow(std::size_t current_capacity) noexcept { return owner->grow(current_capacity); }
    void on_full(Chunk*) noexcept {}
    void on_available(Chunk*) noexcept {}
  };

 public:
  using strategy = Strategy;

  // Effects: a pool of `capacity` slots that doubles when full, without limit.
  explicit GrowingPool(std::size_t capacity)
      : GrowingPool(PoolConfig<T>::with_capacity(capacity)) {}
  // Effects: the same, growing to at most `max_capacity` slots.
  // Throws: config_error when max_capacity < capacity.
  GrowingPool(std::size_t capacity, std::size_t max_capacity)
      : GrowingPool(
            PoolConfig<T>::builder().capacity(capacity).max_capacity(max_capacity).build()) {}
  // Throws: std::bad_alloc; what the initializer throws (pre_initialize).
  explicit GrowingPool(const PoolConfig<T>& config)
      : layout_(detail::make_layout<T>(config.alignment(), Strategy::links_in_slot,
                                       config.pre_initialize())),
        objects_(config),
        growth_(config.growth()),
        max_capacity_(config.max_capacity()),
        shrink_when_empty_(config.shrink_when_empty()),
        engine_(Source{this}) {
    Chunk* c = make_chunk(config.capacity());
    c->first = true;
    engine_.adopt(c);
  }
  GrowingPool(const GrowingPool&) = delete;
  GrowingPool& operator=(const GrowingPool&) = delete;
  // REQUIRES: no object in use (debug builds abort with the count).
  ~GrowingPool() {
    this->retire_statistics();
    if constexpr (detail::kChecked)
      if (in_use_ != 0) detail::fatal_in_use<Destroyed>(in_use_, this);
    engine_.for_each_chunk([this](Chunk* c) { destroy_chunk(c); });
  }

  std::size_t capacity() const noexcept { return engine_.capacity(); }
  std::size_t max_capacity() const noexcept { return max_capacity_; }
  // Returns: free slots in the chunks made so far (growth may add more).
  std::size_t available() const noexcept { return capacity() - in_use_; }
  std::size_t in_use() const noexcept { return in_use_; }
  std::size_t chunk_count() const noexcept { return engine_.chunk_count(); }

  // Effects: gives every chunk with no object in use back to the system, but the first
  // (the constructor's capacity). Returns: the number of slots given back.
  std::size_t shrink_to_fit() noexcept {
    std::size_t before = capacity();
    engine_.for_each_chunk([this](Chunk* c) {
      if (!c->first && c->pool.unused()) release_chunk(c);
    });
    return before - capacity();
  }
  PoolStatistics statistics() const noexcept {
    return counters_.snapshot(capacity(), in_use_, counters_.peak, engine_.growth_count());
  }

 private:
  using Front = detail::PoolFront<GrowingPool, T, false>;
  friend Front;
  using Destroyed = detail::PoolMessage<"GrowingPool", T, "destroyed while objects are in use">;

  FP_FAST_PATH void* take_slot() {
    void* slot = engine_.allocate();
    if (FP_UNLIKELY(slot == nullptr)) return exhausted();
    ++in_use_;
    counters_.on_take(in_use_, true);
    if constexpr (detail::kChecked)  // the engine allocates from its current chunk
      if (Chunk* c = engine_.current(); !c->live.mark(c->pool.index_of(slot)))
        engine::fatal(
            detail::PoolMessage<"GrowingPool", T, "internal error: slot handed out twice">::c_str(),
            slot);
    return slot;
  }
  FP_SLOW_PATH void* exhausted() {
    if (pending_) std::rethrow_exception(std::exchange(pending_, nullptr));
    counters_.on_failure();
    return nullptr;
  }
  FP_FAST_PATH void give_slot(void* slot) noexcept {
    --in_use_;
    if (Chunk* c = engine_.current(); FP_LIKELY(c != nullptr && spans(c, slot)))
      return engine_.deallocate(c, slot);
    give_elsewhere(slot);
  }
  // Into a chunk other than the current one: the only place a chunk can become empty
  // while another serves allocations.
  FP_SLOW_PATH void give_elsewhere(void* slot) noexcept {
    Chunk* c = chunk_of(slot);
    engine_.deallocate(c, slot);
    if (shrink_when_empty_ && !c->first && c->pool.unused()) release_chunk(c);
  }
  void undo_take(void* slot) noexcept {
    Chunk* c = chunk_of(slot);
    if constexpr (detail::kChecked) c->live.unmark(c->pool.index_of(slot));
    counters_.on_undo();
    engine_.deallocate(c, slot);
    --in_use_;
  }
  // Slots of a chunk's never-used tail are not counted: no object ever came from them.
  bool owns_slot(const void* slot) const noexcept { return lookup(slot) != nullptr; }
  void check_release(void* slot, const T* object) noexcept {
    Chunk* c = lookup(slot);
    if (c == nullptr)
      engine::fatal(detail::PoolMessage<"GrowingPool", T,
                                        "destroy of a pointer that is not from this pool">::c_str(),
                    object);
    if (!c->live.unmark(c->pool.index_of(slot)))
      engine::fatal(detail::PoolMessage<"GrowingPool", T, "double destroy">::c_str(), object);
  }
  auto& objects() noexcept { return objects_; }
  const auto& objects() const noexcept { return objects_; }
  detail::SlotShape slot_shape() const noexcept { return {layout_.slot_size, detail::kNoLink}; }

  static bool spans(const Chunk* c, const void* slot) noexcept {
    auto* s = static_cast<const char*>(slot);
    return s >= c->pool.start() && s < c->pool.end();
  }
  // The chunk of a slot of this pool: the header at the start of the engine block around
  // it. Under ASan the chunks come from the C allocator (detail/objects.hpp), so the
  // chain is walked instead.
  // REQUIRES: `slot` was handed out by this pool.
  Chunk* chunk_of(const void* slot) const noexcept {
    if constexpr (detail::kAsan) return engine_.find(slot);
    return static_cast<Chunk*>(fp_block_of(slot));
  }
  // The chunk holding `slot`, or null when it is not a slot this pool handed out.
  Chunk* lookup(const void* slot) const noexcept {
    if constexpr (detail::kAsan) return engine_.find(slot);
    auto* c = static_cast<Chunk*>(fp_block_of(slot));
    return c != nullptr && c->owner == this && c->pool.contains(slot) ? c : nullptr;
  }
  void release_chunk(Chunk* c) noexcept {
    engine_.remove_unused(c);
    destroy_chunk(c);
  }

  // Called by the engine when every chunk is full. Returns null when the pool may not
  // grow, memory is out, or the growth function or initializer threw (kept in pending_
  // and rethrown by take_slot, since the engine's path is noexcept).
  Chunk* grow(std::size_t current) noexcept {
    if (current >= max_capacity_) return nullptr;
    try {
      std::size_t add = std::min(growth_.slots_to_add(current), max_capacity_ - current);
      if (add == 0) return nullptr;
      return make_chunk(add);
    } catch (const std::bad_alloc&) {
      return nullptr;
    } catch (...) {
      pending_ = std::current_exception();
      return nullptr;
    }
  }

  std::size_t header_bytes() const noexcept {
    return detail::round_up(sizeof(Chunk), std::max(layout_.align, alignof(Chunk)));
  }

  Chunk* make_chunk(std::size_t n) {
    using Engine = typename Strategy::block_pool;
    std::size_t limit = std::numeric_limits<std::uint32_t>::max() / layout_.slot_size;
    if (n > limit) n = limit;  // one chunk's engine addresses at most 4 GiB
    std::size_t header = header_bytes();
    std::size_t index = detail::round_up(Engine::index_bytes(n), layout_.align);
    void* memory = detail::allocate_bytes(std::max(layout_.align, alignof(Chunk)),
                                          header + index + n * layout_.slot_size);
    char* slots = static_cast<char*>(memory) + header + index;
    std::size_t built = 0;
    Chunk* c = nullptr;
    try {
      c = ::new (memory) Chunk;
      c->owner = this;
      c->live.init(n);
      if (objects_.pre_initialized())
        for (; built < n; ++built) objects_.prepare(slots + built * layout_.slot_size);
    } catch (...) {
      while (built > 0) objects_.dispose(slots + --built * layout_.slot_size);
      if (c != nullptr) c->~Chunk();
      detail::release_bytes(memory);
      throw;
    }
    c->pool.init(slots, layout_.slot_size, n, static_cast<char*>(memory) + header,
                 layout_.link_offset);
    detail::poison_slots(slots, n, slot_shape());
    return c;
  }

  void destroy_chunk(Chunk* c) noexcept {
    detail::unpoison_slots(c->pool.block_at(0), c->pool.capacity(), slot_shape());
    if (objects_.pre_initialized())
      for (std::size_t i = 0; i < c->pool.capacity(); ++i) objects_.dispose(c->pool.block_at(i));
    c->~Chunk();
    detail::release_bytes(c);
  }

  detail::SlotLayout layout_;
  detail::Objects<T> objects_;
  GrowthStrategy growth_;
  std::size_t max_capacity_;
  bool shrink_when_empty_;
  std::size_t in_use_ = 0;
  detail::Counters counters_;
  std::exception_ptr pending_;
  engine::GrowingBlockPool<Source> engine_;
};

FP_MODE_END
}  // namespace fastpool
