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
// Growth (a config that names a growth or a max_capacity): past the run's capacity, a
// chain of chunks (detail/chunk_chain.hpp) grows by the config's strategy, in whole
// chunks, behind the same lock; the run is used first.
//
// Invariants: a cached slot is counted as used by the run or the chain and holds no live
// object; in_use() == run.in_use() + chain.in_use() - number of cached slots.
#pragma once

#include <array>
#include <atomic>
#include <mutex>
#include <type_traits>

#include "fastpool/detail/chunk_chain.hpp"
#include "fastpool/detail/pool_front.hpp"
#include "fastpool/detail/slot_run.hpp"
#include "fastpool/detail/spin_lock.hpp"
#include "fastpool/detail/thread_cell.hpp"

namespace fastpool {
FP_MODE_BEGIN

// Any thread may allocate, and any thread may release a handle. SharedHandles from it
// count atomically. Grows only when its config says so. peak_usage is exact when one thread uses
// the pool, and may exceed the true peak by the number of threads' cached slots otherwise.
template <class T, SlotStrategy Strategy = FreeListStrategy>
class ThreadSafePool : public detail::PoolFront<ThreadSafePool<T, Strategy>, T, true>,
                       public detail::RunStorage<detail::SlotRun<T, Strategy, "ThreadSafePool">> {
 public:
  using strategy = Strategy;

  explicit ThreadSafePool(std::size_t capacity)
      : ThreadSafePool(PoolConfig<T>::with_capacity(capacity)) {}
  // Effects: a pool of config.capacity() slots; growing past them when config.grows().
  explicit ThreadSafePool(const PoolConfig<T>& config)
      : run_(config), grows_(config.grows()), chain_(config, true, config.capacity()) {}
  // Effects: over the caller's storage, as FixedPool's (growth, if configured, takes
  // memory from the engine).
  ThreadSafePool(std::span<std::byte> storage, std::size_t capacity)
      : ThreadSafePool(storage, PoolConfig<T>::with_capacity(capacity)) {}
  ThreadSafePool(std::span<std::byte> storage, const PoolConfig<T>& config)
      : grows_(config.grows()), chain_(config, true, config.capacity()) {
    run_.init(config, storage);
  }
  ThreadSafePool(const ThreadSafePool&) = delete;
  ThreadSafePool& operator=(const ThreadSafePool&) = delete;
  // REQUIRES: no object in use, and no other thread using the pool.
  ~ThreadSafePool() {
    this->retire_statistics();
    if constexpr (detail::kChecked)
      if (chain_.in_use() != 0) detail::fatal_in_use<Destroyed>(in_use(), this);
    run_.template destroy<Destroyed>();
  }

  // Returns: snapshots; other threads may change them at once.
  std::size_t capacity() const noexcept {
    std::lock_guard guard(lock_);
    return run_.capacity() + chain_.capacity();
  }
  std::size_t available() const noexcept { return capacity() - in_use(); }
  std::size_t in_use() const noexcept {
    std::lock_guard guard(lock_);
    return run_.in_use() + chain_.in_use() - cached_slots();
  }
  // Effects: takes back the slots parked in the threads' caches, then gives every grown
  // chunk with no object in use back to the system. Returns: the number of slots given
  // back.
  std::size_t shrink_to_fit() noexcept {
    std::lock_guard guard(lock_);
    if constexpr (kCached)
      for (Cell& c : cells_)
        if (void* slot = c.cached.exchange(nullptr, std::memory_order_acquire)) {
          if (run_.spans(slot))
            run_.give_slot(slot);
          else
            chain_.give_slot(slot);
        }
    return chain_.shrink_to_fit();
  }
  PoolStatistics statistics() const noexcept {
    std::lock_guard guard(lock_);
    PoolStatistics s = run_.statistics();
    PoolStatistics g = chain_.statistics();
    s.capacity += g.capacity;
    s.in_use += g.in_use;
    s.growth_count = g.growth_count;
    if constexpr (kStatisticsEnabled) {
      s.peak_usage += g.peak_usage;
      s.total_allocations += g.total_allocations;
      s.total_deallocations += g.total_deallocations;
      s.allocation_failures += g.allocation_failures;
    }
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

  // Throws: what the growth function or the initializer throws while the pool grows.
  FP_FAST_PATH void* take_slot() {
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
      if (FP_UNLIKELY(slot == nullptr) && grows_) slot = take_free_grown();
      lock_.unlock();
      if (FP_UNLIKELY(slot == nullptr)) slot = take_cached_elsewhere();
      return slot;
    } else {
      std::lock_guard guard(lock_);
      if (void* slot = run_.template take_slot<false>()) return slot;
      return take_grown();
    }
  }
  // Under the lock, the run empty: a free slot of the chain, or null (no growth, so
  // nothing is thrown).
  FP_SLOW_PATH void* take_free_grown() noexcept {
    return chain_.in_use() < chain_.capacity() ? chain_.take_slot() : nullptr;
  }
  // Under the lock, the run empty: a slot of the chain, which grows if it must; else a
  // counted failure.
  FP_SLOW_PATH void* take_grown() {
    if (grows_) return chain_.take_slot();  // counts its own failures
    run_.count_failure();
    return nullptr;
  }
  // The run and the chain are empty: a slot parked in some thread's cell, else growth,
  // else a counted failure.
  FP_SLOW_PATH void* take_cached_elsewhere() {
    for (Cell& c : cells_)
      if (c.cached.load(std::memory_order_relaxed) != nullptr)
        if (void* slot = c.cached.exchange(nullptr, std::memory_order_acquire)) {
          // Counted as a hit of the caller's cell (the run did not count it).
          unsigned cell = detail::thread_cell();
          if constexpr (kStatisticsEnabled) detail::cell_add(cells_[cell].hits, cell, 1);
          return slot;
        }
    std::lock_guard guard(lock_);
    if (void* slot = run_.template take_slot<false>()) return slot;  // a release landed
    return take_grown();
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
    if (FP_LIKELY(run_.spans(slot)))
      run_.give_slot(slot);
    else
      give_grown(slot);
  }
  FP_SLOW_PATH void give_grown(void* slot) noexcept { chain_.give_slot(slot); }
  void undo_take(void* slot) noexcept {
    if constexpr (kCached) {
      // Uncounts the allocation in the cell's hits (the sums are what is reported).
      unsigned cell = detail::thread_cell();
      if constexpr (kStatisticsEnabled) detail::cell_add(cells_[cell].hits, cell, ~std::size_t{0});
      give_slot(slot);
    } else {
      std::lock_guard guard(lock_);
      if (run_.spans(slot))
        run_.undo_take(slot);
      else
        chain_.undo_take(slot);
    }
  }
  // The run's slot range never changes, so it needs no lock; the chain's does.
  bool owns_slot(const void* slot) const noexcept {
    if (run_.owns_slot(slot)) return true;
    if (!grows_) return false;
    std::lock_guard guard(lock_);
    return chain_.owns_slot(slot);
  }
  void check_release(void* slot, const T* object) noexcept {
    std::lock_guard guard(lock_);
    if (run_.spans(slot) || !grows_)
      run_.check_release(slot, object);
    else
      chain_.check_release(slot, object);
  }
  auto& objects() noexcept { return run_.objects(); }
  const auto& objects() const noexcept { return run_.objects(); }
  detail::SlotShape slot_shape() const noexcept { return run_.slot_shape(); }

  mutable detail::SpinLock lock_;
  detail::SlotRun<T, Strategy, "ThreadSafePool"> run_;
  bool grows_ = false;
  detail::ChunkChain<T, Strategy, "ThreadSafePool"> chain_;  // empty unless grows_
  // Per-thread caches (none for BitmapStrategy); [kSharedCell] is never used.
  std::array<Cell, kHasCells ? detail::kThreadCells + 1 : 0> cells_;
};

FP_MODE_END
}  // namespace fastpool
