// ThreadLocalPool<T>: a FixedPool owned by the thread that made it. No synchronisation;
// debug builds abort with a message when another thread touches it (including returning
// a handle there), since that is a data race the pool cannot survive.
#pragma once

#include "fastpool/detail/pool_front.hpp"
#include "fastpool/detail/slot_run.hpp"
#include "fastpool/engine/thread_owned.hpp"

namespace fastpool {
FP_MODE_BEGIN

// Typical use: one per worker thread, e.g. `thread_local ThreadLocalPool<Msg> pool(256);`.
// REQUIRES: every operation, handle release included, happens on the creating thread.
template <class T, SlotStrategy Strategy = FreeListStrategy>
class ThreadLocalPool : public detail::PoolFront<ThreadLocalPool<T, Strategy>, T, false>,
                        public detail::RunStorage<detail::SlotRun<T, Strategy, "ThreadLocalPool">> {
 public:
  using strategy = Strategy;

  explicit ThreadLocalPool(std::size_t capacity)
      : ThreadLocalPool(PoolConfig<T>::with_capacity(capacity)) {}
  explicit ThreadLocalPool(const PoolConfig<T>& config) { run_.unchecked().init(config); }
  // Effects: over the caller's storage, as FixedPool's.
  ThreadLocalPool(std::span<std::byte> storage, std::size_t capacity)
      : ThreadLocalPool(storage, PoolConfig<T>::with_capacity(capacity)) {}
  ThreadLocalPool(std::span<std::byte> storage, const PoolConfig<T>& config) {
    run_.unchecked().init(config, storage);
  }
  ThreadLocalPool(const ThreadLocalPool&) = delete;
  ThreadLocalPool& operator=(const ThreadLocalPool&) = delete;
  // REQUIRES: no object in use; called on the owning thread.
  ~ThreadLocalPool() {
    this->retire_statistics();
    run().template destroy<Destroyed>();
  }

  std::size_t capacity() const noexcept { return run_.unchecked().capacity(); }
  std::size_t available() const noexcept { return run_.unchecked().available(); }
  std::size_t in_use() const noexcept { return run_.unchecked().in_use(); }
  PoolStatistics statistics() const noexcept { return run_.unchecked().statistics(); }
  // Returns: true when called on the owning thread.
  bool owned_by_caller() const noexcept { return run_.owned_by_caller(); }

 private:
  using Front = detail::PoolFront<ThreadLocalPool, T, false>;
  friend Front;
  using Run = detail::SlotRun<T, Strategy, "ThreadLocalPool">;
  using Destroyed = detail::PoolMessage<"ThreadLocalPool", T, "destroyed while objects are in use">;
  using WrongThread =
      detail::PoolMessage<"ThreadLocalPool", T, "used by a thread that does not own it">;

  FP_FAST_PATH Run& run() noexcept {
    return run_.template get<detail::kChecked>(WrongThread::c_str());
  }

  FP_FAST_PATH void* take_slot() noexcept { return run().take_slot(); }
  FP_FAST_PATH void give_slot(void* slot) noexcept { run().give_slot(slot); }
  void undo_take(void* slot) noexcept { run().undo_take(slot); }
  bool owns_slot(const void* slot) const noexcept { return run_.unchecked().owns_slot(slot); }
  void check_release(void* slot, const T* object) noexcept { run().check_release(slot, object); }
  auto& objects() noexcept { return run_.unchecked().objects(); }
  const auto& objects() const noexcept { return run_.unchecked().objects(); }
  detail::SlotShape slot_shape() const noexcept { return run_.unchecked().slot_shape(); }

  engine::ThreadOwned<Run> run_;
};

FP_MODE_END
}  // namespace fastpool
