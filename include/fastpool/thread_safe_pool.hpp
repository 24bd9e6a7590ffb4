// ThreadSafePool<T>: a fixed number of T slots shared by threads, behind a lock. Objects
// are built, hooked and destroyed outside the lock; only the slot bookkeeping is inside.
//
// Per-thread slot cache (release builds, LIFO strategies): each thread has a cell (see
// detail::thread_cell) holding the slot it released last. A release parks the slot there
// (a plain store when the cell is empty) and the thread's next allocation takes it back
// with one exchange on that thread's own cache line, without the lock; so a steady
// allocate+release pair costs one uncontended atomic RMW instead of two lock round
// trips. The order stays most-recently-freed first, and no slot is stranded: a thread
// that finds the run empty takes the other threads' cached slots before giving up.
// Checked builds (Debug, FASTPOOL_SECURE) do not cache, so that every release goes
// through the misuse checks under the lock; neither does BitmapStrategy (lowest address
// first).
//
// Invariants: a cached slot is counted as used by the run and holds no live object;
// in_use() == run.in_use() - number of cached slots.
#pragma once

#include <array>
#include <atomic>
#include <mutex>
#include <type_traits>

#include "fastpool/detail/pool_front.hpp"
#include "fastpool/detail/slot_run.hpp"
#include "fastpool/detail/spin_lock.hpp"
#include "fastpool/detail/thread_cell.hpp"

namespace fastpool {
FP_MODE_BEGIN

// Any thread may allocate, and any thread may release a handle. SharedHandles from it
// count atomically. Never grows. peak_usage is exact when one thread uses the pool, and
// may exceed the true peak by the number of threads' cached slots otherwise.
template <class T, SlotStrategy Strategy = FreeListStrategy>
class ThreadSafePool : public detail::PoolFront<ThreadSafePool<T, Strategy>, T, true>,
                       public detail::RunStorage<detail::SlotRun<T, Strategy, "ThreadSafePool">> {
 public:
  using strategy = Strategy;

  explicit ThreadSafePool(std::size_t capacity)
      : ThreadSafePool(PoolConfig<T>::with_capacity(capacity)) {}
  explicit ThreadSafePool(const PoolConfig<T>& config) : run_(config) {}
  // Effects: over the caller's storage, as FixedPool's.
  ThreadSafePool(std::span<std::byte> storage, std::size_t capacity)
      : ThreadSafePool(storage, PoolConfig<T>::with_capacity(capacity)) {}
  ThreadSafePool(std::span<std::byte> storage, const PoolConfig<T>& config) {
    run_.init(config, storage);
  }
  ThreadSafePool(const ThreadSafePool&) = delete;
  ThreadSafePool& operator=(const ThreadSafePool&) = delete;
  // REQUIRES: no object in use, and no other thread using the pool.
  ~ThreadSafePool() {
    this->retire_statistics();
    run_.template destroy<Destroyed>();
  }

  std::size_t capacity() const noexcept { return run_.capacity(); }
  // Returns: a snapshot; other threads may change it at once.
  std::size_t available() const noexcept { return capacity() - in_use(); }
  std::size_t in_use() const noexcept {
    std::lock_guard guard(lock_);
    return run_.in_use() - cached_slots();
  }
  PoolStatistics statistics() const noexcept {
    std::lock_guard guard(lock_);
    PoolStatistics s = run_.statistics();
    if constexpr (kCached) {
      s.in_use -= cached_slots();
      if constexpr (kStatisticsEnabled) {
        for (const Cell& c : cells_) s.total_allocations += c.hits.load(std::memory_order_relaxed);
        s.total_deallocations = s.total_allocations - s.in_use;
      }
    }
    return s;
  }

 private:
  using Front = detail::PoolFront<ThreadSafePool, T, true>;
  friend Front;
  using Destroyed = detail::PoolMessage<"ThreadSafePool", T, "destroyed while objects are in use">;

  // The cells exist whatever the mode, so that the layout is the same in checked and
  // unchecked translation units; checked mode leaves them unused.
  static constexpr bool kHasCells = !std::is_same_v<Strategy, BitmapStrategy>;
  static constexpr bool kCached = kHasCells && !detail::kChecked;

  // One thread's cached slot and cache-hit count; only that thread stores a slot into
  // `cached` (others only exchange it to null), and only it writes `hits`.
  struct alignas(64) Cell {
    std::atomic<void*> cached{nullptr};
    std::atomic<std::size_t> hits{0};  // allocations served from `cached` (statistics)
  };

  std::size_t cached_slots() const noexcept {
    std::size_t n = 0;
    if constexpr (kCached)
      for (const Cell& c : cells_) n += c.cached.load(std::memory_order_relaxed) != nullptr;
    return n;
  }

  FP_FAST_PATH void* take_slot() noexcept {
    if constexpr (kCached) {
      unsigned cell = detail::thread_cell();
      Cell& c = cells_[cell];
      // acquire: pairs with the release that parked the slot (possibly by an exited
      // thread whose cell this thread inherited).
      if (c.cached.load(std::memory_order_relaxed) != nullptr)
        if (void* slot = c.cached.exchange(nullptr, std::memory_order_acquire)) {
          if constexpr (kStatisticsEnabled) detail::cell_add(c.hits, cell, 1);
          return slot;
        }
      lock_.lock();
      void* slot = run_.template take_slot<false>();
      lock_.unlock();
      if (FP_UNLIKELY(slot == nullptr)) slot = take_cached_elsewhere();
      return slot;
    } else {
      std::lock_guard guard(lock_);
      return run_.take_slot();
    }
  }
  // The run is empty: a slot parked in some thread's cell, else a counted failure.
  FP_SLOW_PATH void* take_cached_elsewhere() noexcept {
    for (Cell& c : cells_)
      if (c.cached.load(std::memory_order_relaxed) != nullptr)
        if (void* slot = c.cached.exchange(nullptr, std::memory_order_acquire)) {
          // Counted as a hit of the caller's cell (the run did not count it).
          unsigned cell = detail::thread_cell();
          if constexpr (kStatisticsEnabled) detail::cell_add(cells_[cell].hits, cell, 1);
          return slot;
        }
    std::lock_guard guard(lock_);
    void* slot = run_.template take_slot<false>();  // a release may have landed meanwhile
    if (slot == nullptr) run_.count_failure();
    return slot;
  }
  FP_FAST_PATH void give_slot(void* slot) noexcept {
    if constexpr (kCached) {
      unsigned cell = detail::thread_cell();
      if (FP_LIKELY(cell != detail::kSharedCell)) {
        Cell& c = cells_[cell];
        // Only this thread stores here, so an empty cell stays empty until the store.
        // release: publishes the slot's state to whoever takes it.
        if (FP_LIKELY(c.cached.load(std::memory_order_relaxed) == nullptr)) {
          c.cached.store(slot, std::memory_order_release);
          return;
        }
        // Keep the newest slot in the cell (LIFO); the older one goes to the run.
        slot = c.cached.exchange(slot, std::memory_order_acq_rel);
        if (slot == nullptr) return;  // a thief emptied the cell meanwhile
      }
    }
    std::lock_guard guard(lock_);
    run_.give_slot(slot);
  }
  void undo_take(void* slot) noexcept {
    if constexpr (kCached) {
      // Uncounts the allocation in the cell's hits (the sums are what is reported).
      unsigned cell = detail::thread_cell();
      if constexpr (kStatisticsEnabled) detail::cell_add(cells_[cell].hits, cell, ~std::size_t{0});
      give_slot(slot);
    } else {
      std::lock_guard guard(lock_);
      run_.undo_take(slot);
    }
  }
  // The slot range never changes, so no lock is needed.
  bool owns_slot(const void* slot) const noexcept { return run_.owns_slot(slot); }
  void check_release(void* slot, const T* object) noexcept {
    std::lock_guard guard(lock_);
    run_.check_release(slot, object);
  }
  auto& objects() noexcept { return run_.objects(); }
  const auto& objects() const noexcept { return run_.objects(); }
  detail::SlotShape slot_shape() const noexcept { return run_.slot_shape(); }

  mutable detail::SpinLock lock_;
  detail::SlotRun<T, Strategy, "ThreadSafePool"> run_;
  // Per-thread caches (none for BitmapStrategy); [kSharedCell] is never used.
  std::array<Cell, kHasCells ? detail::kThreadCells + 1 : 0> cells_;
};

FP_MODE_END
}  // namespace fastpool
