// ThreadSafePool<T>: a fixed number of T slots shared by threads, behind a lock. Objects
// are built, hooked and destroyed outside the lock; only the slot bookkeeping is inside.
#pragma once

#include <mutex>

#include "fastpool/detail/pool_front.hpp"
#include "fastpool/detail/slot_run.hpp"
#include "fastpool/detail/spin_lock.hpp"

namespace fastpool {

// Any thread may allocate, and any thread may release a handle. SharedHandles from it
// count atomically. Never grows.
template <class T, SlotStrategy Strategy = StackStrategy>
class ThreadSafePool : public detail::PoolFront<ThreadSafePool<T, Strategy>, T, true> {
 public:
  using strategy = Strategy;

  explicit ThreadSafePool(std::size_t capacity)
      : ThreadSafePool(PoolConfig<T>::with_capacity(capacity)) {}
  explicit ThreadSafePool(const PoolConfig<T>& config) : run_(config) {}
  ThreadSafePool(const ThreadSafePool&) = delete;
  ThreadSafePool& operator=(const ThreadSafePool&) = delete;
  // REQUIRES: no object in use, and no other thread using the pool.
  ~ThreadSafePool() { run_.template destroy<Destroyed>(); }

  std::size_t capacity() const noexcept { return run_.capacity(); }
  // Returns: a snapshot; other threads may change it at once.
  std::size_t available() const noexcept {
    std::lock_guard guard(lock_);
    return run_.available();
  }
  std::size_t in_use() const noexcept {
    std::lock_guard guard(lock_);
    return run_.in_use();
  }
  PoolStatistics statistics() const noexcept {
    std::lock_guard guard(lock_);
    return run_.statistics();
  }

 private:
  using Front = detail::PoolFront<ThreadSafePool, T, true>;
  friend Front;
  using Destroyed = detail::PoolMessage<"ThreadSafePool", T, "destroyed while objects are in use">;

  FP_FAST_PATH void* take_slot() noexcept {
    std::lock_guard guard(lock_);
    return run_.take_slot();
  }
  FP_FAST_PATH void give_slot(void* slot) noexcept {
    std::lock_guard guard(lock_);
    run_.give_slot(slot);
  }
  void undo_take(void* slot) noexcept {
    std::lock_guard guard(lock_);
    run_.undo_take(slot);
  }
  // The slot range never changes, so no lock is needed.
  bool owns_slot(const void* slot) const noexcept { return run_.owns_slot(slot); }
  void check_release(void* slot, const T* object) noexcept {
    std::lock_guard guard(lock_);
    run_.check_release(slot, object);
  }
  auto& objects() noexcept { return run_.objects(); }
  const auto& objects() const noexcept { return run_.objects(); }

  mutable detail::SpinLock lock_;
  detail::SlotRun<T, Strategy, "ThreadSafePool"> run_;
};

}  // namespace fastpool
