// GrowingPool<T>: T slots for one thread in a chain of chunks that grows by the config's
// GrowthStrategy, up to max_capacity. The chain is the engine's GrowingBlockPool; each
// chunk is one block from the fastpool engine: [chunk header | strategy index | slots].
//
// Invariants: in_use_ is the number of slots handed out over all chunks; capacity only
// grows, and never beyond max_capacity; a pre-initialised pool has an object in every
// slot of every chunk.
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

// Single-threaded. Release finds a slot's chunk by checking the current chunk, then
// walking the chain: O(1) for the usual recent-object churn, O(chunks) at worst (a few
// dozen with exponential growth).
template <class T, SlotStrategy Strategy = FreeListStrategy>
class GrowingPool : public detail::PoolFront<GrowingPool<T, Strategy>, T, false> {
  struct Chunk {
    typename Strategy::block_pool pool;
    Chunk* next = nullptr;
    Chunk* prev = nullptr;
    bool full = false;
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
        engine_(Source{this}) {
    engine_.adopt(make_chunk(config.capacity()));
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
    if constexpr (detail::kChecked)
      if (!chunk_of(slot)->live.mark(chunk_of(slot)->pool.index_of(slot)))
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
    engine_.deallocate(chunk_of(slot), slot);
    --in_use_;
  }
  void undo_take(void* slot) noexcept {
    Chunk* c = chunk_of(slot);
    if constexpr (detail::kChecked) c->live.unmark(c->pool.index_of(slot));
    counters_.on_undo();
    engine_.deallocate(c, slot);
    --in_use_;
  }
  // Slots of a chunk's never-used tail are not counted: no object ever came from them.
  bool owns_slot(const void* slot) const noexcept { return engine_.find(slot) != nullptr; }
  void check_release(void* slot, const T* object) noexcept {
    Chunk* c = engine_.find(slot);
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

  // The current chunk serves most releases; others are found by walking the chain.
  FP_FAST_PATH Chunk* chunk_of(const void* slot) const noexcept {
    Chunk* c = engine_.current();
    if (FP_LIKELY(c != nullptr && c->pool.contains(slot))) return c;
    c = engine_.find(slot);
    FP_ASSERT(c != nullptr);
    return c;
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
  std::size_t in_use_ = 0;
  detail::Counters counters_;
  std::exception_ptr pending_;
  engine::GrowingBlockPool<Source> engine_;
};

FP_MODE_END
}  // namespace fastpool
