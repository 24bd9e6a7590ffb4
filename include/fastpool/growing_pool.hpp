// GrowingPool<T>: T slots for one thread in a chain of chunks that grows by the config's
// GrowthStrategy, up to max_capacity (detail/chunk_chain.hpp).
#pragma once

#include "fastpool/detail/chunk_chain.hpp"
#include "fastpool/detail/pool_front.hpp"

namespace fastpool {
FP_MODE_BEGIN

// Single-threaded. Allocation and release are O(1) whatever the number of chunks.
template <class T, SlotStrategy Strategy = FreeListStrategy>
class GrowingPool : public detail::PoolFront<GrowingPool<T, Strategy>, T, false> {
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
  explicit GrowingPool(const PoolConfig<T>& config) : chain_(config) {}
  GrowingPool(const GrowingPool&) = delete;
  GrowingPool& operator=(const GrowingPool&) = delete;
  // REQUIRES: no object in use (checked builds abort with the count).
  ~GrowingPool() {
    this->retire_statistics();
    if constexpr (detail::kChecked)
      if (in_use() != 0) detail::fatal_in_use<Destroyed>(in_use(), this);
  }

  std::size_t capacity() const noexcept { return chain_.capacity(); }
  std::size_t max_capacity() const noexcept { return chain_.max_capacity(); }
  // Returns: free slots in the chunks made so far (growth may add more).
  std::size_t available() const noexcept { return capacity() - in_use(); }
  std::size_t in_use() const noexcept { return chain_.in_use(); }
  std::size_t chunk_count() const noexcept { return chain_.chunk_count(); }
  // Effects: gives every chunk with no object in use back to the system, but the first
  // (the constructor's capacity). Returns: the number of slots given back.
  std::size_t shrink_to_fit() noexcept { return chain_.shrink_to_fit(); }
  PoolStatistics statistics() const noexcept { return chain_.statistics(); }

 private:
  using Front = detail::PoolFront<GrowingPool, T, false>;
  friend Front;
  using Destroyed = detail::PoolMessage<"GrowingPool", T, "destroyed while objects are in use">;

  FP_FAST_PATH void* take_slot() { return chain_.take_slot(); }
  FP_FAST_PATH void give_slot(void* slot) noexcept { chain_.give_slot(slot); }
  void undo_take(void* slot) noexcept { chain_.undo_take(slot); }
  bool owns_slot(const void* slot) const noexcept { return chain_.owns_slot(slot); }
  void check_release(void* slot, const T* object) noexcept { chain_.check_release(slot, object); }
  auto& objects() noexcept { return chain_.objects(); }
  const auto& objects() const noexcept { return chain_.objects(); }
  detail::SlotShape slot_shape() const noexcept { return chain_.slot_shape(); }

  detail::ChunkChain<T, Strategy, "GrowingPool"> chain_;
};

FP_MODE_END
}  // namespace fastpool
