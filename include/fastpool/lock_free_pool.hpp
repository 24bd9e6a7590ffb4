// LockFreePool<T>: a fixed number of T slots shared by threads without a lock. Free slots
// sit on the engine's AtomicFreeList (tagged pop, so no ABA); slots never used yet are
// claimed with an atomic bump index, so construction touches no slot.
//
// Layout: each slot keeps its link word behind the object, so that a racing pop, which
// may read the link of a slot another thread has just taken, never reads bytes of an
// object being built (no data race, clean under ThreadSanitizer). Behind rather than in
// front: the object then starts at its slot, and only the (slower) list paths convert
// between a slot and its link.
//
// Invariants: slots [0, bump_) have been handed out at least once; every free slot is
// on free_ exactly once or parked in exactly one cell's `cached`; the cells' `listed`
// sum to the length of free_; so in_use = bump_ - sum(listed) - cached slots.
//
// Per-thread cells (detail::thread_cell, a cache line each, written by their thread):
// the counters, and a one-slot cache of the slot the thread released last. A release
// parks the slot there when the cache is empty (a plain store), and the next allocation
// on that thread takes it back with one exchange on that thread's own line, so an
// allocate+release pair costs one uncontended atomic RMW instead of two CASes on the
// shared head, and no counter update (in_use is derived when asked). A thread that finds the list
// empty and no slot never used takes the other threads' cached slots (an exchange each), so every
// free slot stays reachable: the pool is exhausted only when all `capacity` slots are out.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <limits>

#include "fastpool/config.hpp"
#include "fastpool/detail/diagnostics.hpp"
#include "fastpool/detail/objects.hpp"
#include "fastpool/detail/pool_front.hpp"
#include "fastpool/detail/thread_cell.hpp"
#include "fastpool/engine/atomic_free_list.hpp"
#include "fastpool/engine/thread_owned.hpp"
#include "fastpool/statistics.hpp"

namespace fastpool {

// Any thread may allocate and release. Never grows. Counters are kept per thread cell (a
// cache line each) so that threads neither contend on them nor pay an atomic RMW.
template <class T>
class LockFreePool : public detail::PoolFront<LockFreePool<T>, T, true> {
 public:
  explicit LockFreePool(std::size_t capacity)
      : LockFreePool(PoolConfig<T>::with_capacity(capacity)) {}
  explicit LockFreePool(const PoolConfig<T>& config)
      : layout_(link_behind_layout(config.alignment())),
        link_offset_(detail::round_up(sizeof(T), alignof(void*))),
        objects_(config, layout_),
        capacity_(config.capacity()) {
    if (capacity_ > std::numeric_limits<std::size_t>::max() / 2 / layout_.slot_size)
      throw config_error("capacity", "too large for one pool");
    void* memory = detail::allocate_bytes(std::max<std::size_t>(layout_.align, 64),
                                          capacity_ * layout_.slot_size);
    std::size_t built = 0;
    try {
      live_.init(capacity_);
      if (objects_.pre_initialized())
        for (; built < capacity_; ++built)
          objects_.prepare(static_cast<char*>(memory) + built * layout_.slot_size);
    } catch (...) {
      while (built > 0) objects_.dispose(static_cast<char*>(memory) + --built * layout_.slot_size);
      detail::release_bytes(memory);
      throw;
    }
    start_ = static_cast<char*>(memory);
  }
  LockFreePool(const LockFreePool&) = delete;
  LockFreePool& operator=(const LockFreePool&) = delete;
  // REQUIRES: no object in use, and no other thread using the pool.
  ~LockFreePool() {
    if constexpr (detail::kChecked)
      if (in_use() != 0) detail::fatal_in_use<Destroyed>(in_use(), this);
    if (objects_.pre_initialized())
      for (std::size_t i = 0; i < capacity_; ++i) objects_.dispose(slot_at(i));
    detail::release_bytes(start_);
  }

  std::size_t capacity() const noexcept { return capacity_; }
  // Returns: a snapshot (exact when no other thread is allocating or releasing).
  std::size_t in_use() const noexcept {
    // `listed` counts in wrap-around arithmetic (a thread may pop more than it pushed).
    std::size_t free = 0;
    for (const Cell& c : cells_)
      free += c.listed.load(std::memory_order_relaxed) +
              (c.cached.load(std::memory_order_relaxed) != nullptr);
    auto out = static_cast<std::ptrdiff_t>(bump_.load(std::memory_order_relaxed) - free);
    return out < 0 ? 0 : std::min(static_cast<std::size_t>(out), capacity_);
  }
  std::size_t available() const noexcept { return capacity_ - in_use(); }
  // peak_usage is the number of distinct slots ever handed out: the exact peak when
  // threads do not race, an upper bound when they do.
  PoolStatistics statistics() const noexcept {
    PoolStatistics s;
    s.capacity = capacity_;
    s.in_use = in_use();
    if constexpr (kStatisticsEnabled) {
      s.peak_usage = bump_.load(std::memory_order_relaxed);
      for (const Cell& c : cells_) {
        s.total_allocations += c.allocations.load(std::memory_order_relaxed);
        s.allocation_failures += c.failures.load(std::memory_order_relaxed);
      }
      s.total_deallocations = s.total_allocations - s.in_use;
    }
    return s;
  }

 private:
  using Front = detail::PoolFront<LockFreePool, T, true>;
  friend Front;
  using Destroyed = detail::PoolMessage<"LockFreePool", T, "destroyed while objects are in use">;

  // One thread's counters and cached slot; written by that thread only (but the shared
  // cell's counters, and thieves who exchange `cached` to null).
  struct alignas(64) Cell {
    std::atomic<void*> cached{nullptr};  // free, not on free_; never used for kSharedCell
    std::atomic<std::size_t> listed{0};  // pushes onto free_ minus pops, by this cell
    std::atomic<std::size_t> allocations{0};
    std::atomic<std::size_t> failures{0};
  };
  static constexpr std::size_t kMinusOne = ~std::size_t{0};
  // [T | padding | link word], the slot aligned as asked.
  static detail::SlotLayout link_behind_layout(std::size_t alignment) noexcept {
    detail::SlotLayout l;
    l.align = std::max({alignof(T), alignment, alignof(void*)});
    l.object_offset = 0;
    l.slot_size =
        detail::round_up(detail::round_up(sizeof(T), alignof(void*)) + sizeof(void*), l.align);
    return l;
  }
  // The free list links slots through their link words.
  void* pop_listed() noexcept {
    void* link = free_.pop();
    return link == nullptr ? nullptr : static_cast<char*>(link) - link_offset_;
  }
  void* slot_at(std::size_t i) const noexcept { return start_ + i * layout_.slot_size; }
  std::size_t index_of(const void* slot) const noexcept {
    return static_cast<std::size_t>(static_cast<const char*>(slot) - start_) / layout_.slot_size;
  }

  FP_FAST_PATH void* take_slot() noexcept {
    unsigned cell = detail::thread_cell();
    Cell& c = cells_[cell];
    void* slot = nullptr;
    // Usually the slot this thread released last; acquire pairs with that release (the
    // cell may have passed from an exited thread).
    if (c.cached.load(std::memory_order_relaxed) != nullptr)
      slot = c.cached.exchange(nullptr, std::memory_order_acquire);
    if (FP_UNLIKELY(slot == nullptr)) {
      slot = pop_listed();
      if (FP_LIKELY(slot != nullptr))
        detail::cell_add(c.listed, cell, kMinusOne);
      else
        slot = take_fresh(cell);
    }
    if (FP_UNLIKELY(slot == nullptr)) {
      if constexpr (kStatisticsEnabled) detail::cell_add(c.failures, cell, 1);
      return nullptr;
    }
    if constexpr (kStatisticsEnabled) detail::cell_add(c.allocations, cell, 1);
    if constexpr (detail::kChecked)
      if (!live_.mark(index_of(slot)))
        engine::fatal(detail::PoolMessage<"LockFreePool", T,
                                          "internal error: slot handed out twice">::c_str(),
                      slot);
    return slot;
  }
  // A never-used slot from the bump index; else a slot cached by another thread; else
  // one last look at the free list.
  FP_SLOW_PATH void* take_fresh(unsigned cell) noexcept {
    std::size_t i = bump_.load(std::memory_order_relaxed);
    while (i < capacity_)
      if (bump_.compare_exchange_weak(i, i + 1, std::memory_order_relaxed)) return slot_at(i);
    for (Cell& c : cells_)
      if (c.cached.load(std::memory_order_relaxed) != nullptr)
        if (void* slot = c.cached.exchange(nullptr, std::memory_order_acquire)) return slot;
    void* slot = pop_listed();
    if (slot != nullptr) detail::cell_add(cells_[cell].listed, cell, kMinusOne);
    return slot;
  }
  FP_FAST_PATH void give_slot(void* slot) noexcept {
    unsigned cell = detail::thread_cell();
    Cell& c = cells_[cell];
    // Only this thread stores into its cache (thieves only empty it), so an empty cache
    // seen here stays empty until the store. release: publishes the slot's state.
    if (FP_LIKELY(cell != detail::kSharedCell) &&
        c.cached.load(std::memory_order_relaxed) == nullptr)
      c.cached.store(slot, std::memory_order_release);
    else
      push_listed(slot, cell);
  }
  void push_listed(void* slot, unsigned cell) noexcept {
    detail::cell_add(cells_[cell].listed, cell, 1);
    free_.push(static_cast<char*>(slot) + link_offset_);
  }
  void undo_take(void* slot) noexcept {
    if constexpr (detail::kChecked) live_.unmark(index_of(slot));
    unsigned cell = detail::thread_cell();
    if constexpr (kStatisticsEnabled) detail::cell_add(cells_[cell].allocations, cell, kMinusOne);
    push_listed(slot, cell);
  }
  bool owns_slot(const void* slot) const noexcept {
    auto* c = static_cast<const char*>(slot);
    return c >= start_ && c < start_ + capacity_ * layout_.slot_size &&
           static_cast<std::size_t>(c - start_) % layout_.slot_size == 0;
  }
  void check_release(void* slot, const T* object) noexcept {
    if (!owns_slot(slot) || index_of(slot) >= bump_.load(std::memory_order_relaxed))
      engine::fatal(detail::PoolMessage<"LockFreePool", T,
                                        "destroy of a pointer that is not from this pool">::c_str(),
                    object);
    if (!live_.unmark(index_of(slot)))
      engine::fatal(detail::PoolMessage<"LockFreePool", T, "double destroy">::c_str(), object);
  }
  auto& objects() noexcept { return objects_; }
  const auto& objects() const noexcept { return objects_; }

  // Read-mostly fields first; the contended words each get a cache line of their own.
  detail::SlotLayout layout_;
  std::size_t link_offset_;            // of the link word within a slot
  detail::Objects<T, false> objects_;  // T starts at its slot
  char* start_ = nullptr;
  std::size_t capacity_;
  detail::LiveBits live_;
  alignas(64) engine::AtomicFreeList free_;
  alignas(64) std::atomic<std::size_t> bump_{0};
  Cell cells_[detail::kThreadCells + 1];  // [kSharedCell]: threads without a cell of their own
};

}  // namespace fastpool
