// FixedPool<T>: a fixed number of T slots for one thread, O(1) allocate and release.
#pragma once

#include "fastpool/detail/pool_front.hpp"
#include "fastpool/detail/slot_run.hpp"

namespace fastpool {
FP_MODE_BEGIN

// Single-threaded (no synchronisation: use from one thread at a time). Never grows; the
// growth settings of its config are ignored.
template <class T, SlotStrategy Strategy = FreeListStrategy>
class FixedPool : public detail::PoolFront<FixedPool<T, Strategy>, T, false>,
                  public detail::RunStorage<detail::SlotRun<T, Strategy, "FixedPool">> {
 public:
  using strategy = Strategy;

  // Effects: a pool of `capacity` slots. Throws: config_error when capacity is 0;
  // std::bad_alloc.
  explicit FixedPool(std::size_t capacity) : FixedPool(PoolConfig<T>::with_capacity(capacity)) {}
  // Throws: std::bad_alloc; what the initializer throws (pre_initialize).
  explicit FixedPool(const PoolConfig<T>& config) : run_(config) {}
  // Effects: a pool over the caller's storage, which it keeps (no allocation, no system
  // call, now or later): at least required_bytes(capacity) bytes aligned to
  // storage_alignment. Throws: config_error when it is too small or misaligned.
  FixedPool(std::span<std::byte> storage, std::size_t capacity)
      : FixedPool(storage, PoolConfig<T>::with_capacity(capacity)) {}
  FixedPool(std::span<std::byte> storage, const PoolConfig<T>& config) {
    run_.init(config, storage);
  }
  FixedPool(const FixedPool&) = delete;
  FixedPool& operator=(const FixedPool&) = delete;
  // REQUIRES: no handle or created object is still out. Debug builds abort with the
  // count; release builds leave such handles dangling.
  ~FixedPool() {
    this->retire_statistics();
    run_.template destroy<Destroyed>();
  }

  std::size_t capacity() const noexcept { return run_.capacity(); }
  std::size_t available() const noexcept { return run_.available(); }
  std::size_t in_use() const noexcept { return run_.in_use(); }
  PoolStatistics statistics() const noexcept { return run_.statistics(); }

 private:
  using Front = detail::PoolFront<FixedPool, T, false>;
  friend Front;
  using Destroyed = detail::PoolMessage<"FixedPool", T, "destroyed while objects are in use">;

  FP_FAST_PATH void* take_slot() noexcept { return run_.take_slot(); }
  FP_FAST_PATH void give_slot(void* slot) noexcept { run_.give_slot(slot); }
  void undo_take(void* slot) noexcept { run_.undo_take(slot); }
  bool owns_slot(const void* slot) const noexcept { return run_.owns_slot(slot); }
  void check_release(void* slot, const T* object) noexcept { run_.check_release(slot, object); }
  auto& objects() noexcept { return run_.objects(); }
  const auto& objects() const noexcept { return run_.objects(); }
  detail::SlotShape slot_shape() const noexcept { return run_.slot_shape(); }

  detail::SlotRun<T, Strategy, "FixedPool"> run_;
};

FP_MODE_END
}  // namespace fastpool
