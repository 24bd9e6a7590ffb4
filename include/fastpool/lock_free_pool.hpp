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
// Per-thread caches (detail::thread_cell; the shared cell has none), in two tiers on the
// thread's own cell, so that neither touches the shared list:
//  - `cached`, the slot the thread released last, exactly as in ThreadSafePool: a release
//    stores it (plain store), the next allocation takes it back with one exchange, so an
//    allocate+release pair costs one uncontended RMW;
//  - a magazine of kMagazine slots, `entries[0, top)`, newest on top, used when `cached`
//    is taken (release) or empty (allocation), with the same plain store / exchange.
// Only a full magazine (release) or an empty one (allocation) goes to the list, kBatch
// slots at a time: one push_chain or one pop_chain, so the contended head is touched once
// per kBatch operations, where ThreadSafePool takes its lock for every operation its
// one-slot cache does not serve. Cache and entries are atomics so that a thread finding
// the list empty and no slot never used can take any other thread's (or an exited
// thread's) parked slots with an exchange each: the pool is exhausted only when all
// `capacity` slots are out.
//
// Growth (a config that names a growth or a max_capacity): slots live in regions, the
// first (the constructor's, possibly the caller's storage) and grown ones, each an engine
// block [Region header | slots] made by the config's strategy when no slot is free
// anywhere, under a lock that only growth takes; a grown region is published with one
// release store of `fresh_`, and allocation and release stay lock-free. Regions live as
// long as the pool (racing pops may read any slot's link).
//
// Invariants: slots [0, r.bump) of every region r have been handed out at least once;
// only fresh_ may have slots never used (older regions are used up); every free slot is
// on free_ exactly once, or in exactly one cell's `cached` or entry; entries at or above
// a cell's `top` are null (only the cell's thread fills `cached` and entries, entries at
// `top`; other threads only empty them); the cells' `listed` sum to the length of free_;
// so in_use = sum(r.bump) - sum(listed) - non-null caches and entries.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>
#include <span>

#include "fastpool/config.hpp"
#include "fastpool/detail/diagnostics.hpp"
#include "fastpool/detail/objects.hpp"
#include "fastpool/detail/pool_front.hpp"
#include "fastpool/detail/spin_lock.hpp"
#include "fastpool/detail/thread_cell.hpp"
#include "fastpool/engine/atomic_free_list.hpp"
#include "fastpool/engine/thread_owned.hpp"
#include "fastpool/statistics.hpp"

namespace fastpool {
FP_MODE_BEGIN

// Any thread may allocate and release. Grows only when its config says so. Counters are kept per
// thread cell (a cache line each) so that threads neither contend on them nor pay an atomic RMW.
template <class T>
class LockFreePool : public detail::PoolFront<LockFreePool<T>, T, true> {
  // Ahead of the rest: the public storage sizes below are computed from these.
  static constexpr std::size_t bytes_for(std::size_t capacity, detail::SlotLayout l) noexcept {
    return detail::CallerStorage::required(capacity * l.slot_size, capacity);
  }
  // [T | padding | link word], the slot aligned as asked.
  static constexpr detail::SlotLayout link_behind_layout(std::size_t alignment) noexcept {
    return detail::make_layout<T>(alignment, true, true);
  }

 public:
  explicit LockFreePool(std::size_t capacity)
      : LockFreePool(PoolConfig<T>::with_capacity(capacity)) {}
  explicit LockFreePool(const PoolConfig<T>& config)
      : LockFreePool(std::span<std::byte>{}, config) {}
  // Effects: over the caller's storage, which it keeps (no allocation, no system call):
  // at least required_bytes(capacity) bytes aligned to storage_alignment (64 keeps
  // neighbouring slots of different threads off each other's cache lines only as far as
  // the slot size allows). Throws: config_error when it is too small or misaligned.
  LockFreePool(std::span<std::byte> storage, std::size_t capacity)
      : LockFreePool(storage, PoolConfig<T>::with_capacity(capacity)) {}
  LockFreePool(std::span<std::byte> storage, const PoolConfig<T>& config)
      : layout_(link_behind_layout(config.alignment())),
        objects_(config),
        caller_storage_(!storage.empty()),
        grows_(config.grows()),
        max_capacity_(config.max_capacity()),
        growth_(config.growth()) {
    std::size_t n = config.capacity();
    if (n > std::numeric_limits<std::size_t>::max() / 2 / layout_.slot_size)
      detail::raise<config_error>("capacity", "too large for one pool");
    void* memory;
    void* bits = nullptr;
    if (!caller_storage_) {
      memory =
          detail::allocate_bytes(std::max<std::size_t>(layout_.align, 64), n * layout_.slot_size);
    } else {
      bits = detail::CallerStorage::check(storage, n * layout_.slot_size, n, layout_.align);
      memory = storage.data();
    }
    std::size_t built = 0;
    FP_TRY {
      first_.live.init(n, bits);
      if (objects_.pre_initialized())
        for (; built < n; ++built)
          objects_.prepare(static_cast<char*>(memory) + built * layout_.slot_size);
    }
    FP_CATCH_ALL {
      while (built > 0) objects_.dispose(static_cast<char*>(memory) + --built * layout_.slot_size);
      if (!caller_storage_) detail::release_bytes(memory);
      FP_RETHROW;
    }
    first_.start = static_cast<char*>(memory);
    first_.capacity = n;
    detail::poison_slots(first_.start, n, slot_shape());
  }
  LockFreePool(const LockFreePool&) = delete;
  LockFreePool& operator=(const LockFreePool&) = delete;
  // REQUIRES: no object in use, and no other thread using the pool.
  ~LockFreePool() {
    this->retire_statistics();
    if constexpr (detail::kChecked)
      if (in_use() != 0) detail::fatal_in_use<Destroyed>(in_use(), this);
    for (Region* r = grown_.load(std::memory_order_relaxed); r != nullptr;) {
      Region* older = r->next;
      dispose(*r);
      r->~Region();
      detail::release_bytes(r);
      r = older;
    }
    dispose(first_);
    if (!caller_storage_) detail::release_bytes(first_.start);
  }

  // Caller storage: required_bytes(capacity) bytes aligned to storage_alignment (a config
  // with its own alignment: required_bytes(config), aligned to config.alignment() or more).
  static constexpr std::size_t storage_alignment = link_behind_layout(alignof(T)).align;
  static constexpr std::size_t required_bytes(std::size_t capacity) noexcept {
    return bytes_for(capacity, link_behind_layout(alignof(T)));
  }
  static std::size_t required_bytes(const PoolConfig<T>& config) noexcept {
    return bytes_for(config.capacity(), link_behind_layout(config.alignment()));
  }

  // Returns: a snapshot (exact when no other thread is growing the pool).
  std::size_t capacity() const noexcept {
    return first_.capacity + grown_capacity_.load(std::memory_order_relaxed);
  }
  // Returns: a snapshot (exact when no other thread is allocating or releasing).
  std::size_t in_use() const noexcept {
    // `listed` counts in wrap-around arithmetic (a thread may pop more than it pushed).
    std::size_t free = 0;
    for (const Cell& c : cells_) {
      free += c.listed.load(std::memory_order_relaxed) +
              (c.cached.load(std::memory_order_relaxed) != nullptr);
      for (const auto& e : c.entries) free += e.load(std::memory_order_relaxed) != nullptr;
    }
    auto out = static_cast<std::ptrdiff_t>(ever_used() - free);
    return out < 0 ? 0 : std::min(static_cast<std::size_t>(out), capacity());
  }
  std::size_t available() const noexcept { return capacity() - in_use(); }
  // peak_usage is the number of distinct slots ever handed out: the exact peak when
  // threads do not race, an upper bound when they do.
  PoolStatistics statistics() const noexcept {
    PoolStatistics s;
    s.capacity = capacity();
    for (Region* r = grown_.load(std::memory_order_acquire); r != nullptr; r = r->next)
      ++s.growth_count;
    s.in_use = in_use();
    if constexpr (kStatisticsEnabled) {
      s.peak_usage = ever_used();
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

  // The magazine fills the rest of a two-line cell (11 slots; with the cache slot a
  // thread holds 12 before touching the list). A full one sends its upper half to the
  // list, an empty one takes kBatch from it, so a thread alternating around either
  // boundary does not go to the list on every operation. Two lines exactly, so that a
  // cell is found with one shift.
  static constexpr unsigned kMagazine = 11;
  static constexpr unsigned kBatch = kMagazine / 2 + 1;

  // One thread's cache and counters. Only the cell's thread writes `top`, the counters
  // (but the shared cell's counters) and non-null `cached` and entries; other threads
  // only exchange those to null.
  struct alignas(128) Cell {
    std::atomic<void*> cached{nullptr};  // free, not on free_; null for kSharedCell
    std::atomic<unsigned> top{0};        // entries[top, kMagazine) are null; 0 for kSharedCell
    std::atomic<std::size_t> listed{0};  // pushes onto free_ minus pops, by this cell
    std::atomic<std::size_t> allocations{0};
    std::atomic<std::size_t> failures{0};
    std::atomic<void*> entries[kMagazine] = {};  // free slots, not on free_
  };
  static_assert(sizeof(Cell) == 128);
  static constexpr std::size_t kMinusOne = ~std::size_t{0};

  // The free list links slots through their link words.
  engine::FreeBlock* link_of(void* slot) const noexcept {
    return reinterpret_cast<engine::FreeBlock*>(static_cast<char*>(slot) + layout_.link_offset);
  }
  void* slot_of(void* link) const noexcept {
    return static_cast<char*>(link) - layout_.link_offset;
  }
  void* pop_listed() noexcept {
    void* link = free_.pop();
    return link == nullptr ? nullptr : slot_of(link);
  }
  detail::SlotShape slot_shape() const noexcept { return {layout_.slot_size, layout_.link_offset}; }
  // A run of slots: the first (member), or a grown one (an engine block of its own, the
  // header first). Only the thread that grows writes a region, before publishing it.
  struct Region {
    char* start = nullptr;
    std::size_t capacity = 0;
    Region* next = nullptr;       // the next older grown region
    const void* owner = nullptr;  // the pool, so that a foreign slot is told apart
    detail::LiveBits live;
    alignas(64) std::atomic<std::size_t> bump{0};  // slots [0, bump) ever handed out
  };

  void* slot_at(const Region& r, std::size_t i) const noexcept {
    return r.start + i * layout_.slot_size;
  }
  std::size_t index_of(const Region& r, const void* slot) const noexcept {
    return static_cast<std::size_t>(static_cast<const char*>(slot) - r.start) / layout_.slot_size;
  }
  static bool spans(const Region& r, const void* slot, std::size_t slot_size) noexcept {
    auto* c = static_cast<const char*>(slot);
    return c >= r.start && c < r.start + r.capacity * slot_size;
  }
  // The region holding `slot`, or null. O(1): the first region, or the header at the
  // start of the engine block around it (under ASan, whose allocator holds the regions,
  // the list is walked).
  const Region* region_of(const void* slot) const noexcept {
    if (spans(first_, slot, layout_.slot_size)) return &first_;
    if (!grows_) return nullptr;
    if constexpr (detail::kAsan) {
      for (Region* r = grown_.load(std::memory_order_acquire); r != nullptr; r = r->next)
        if (spans(*r, slot, layout_.slot_size)) return r;
      return nullptr;
    }
    auto* r = static_cast<const Region*>(fp_block_of(slot));
    if (r == nullptr || fp_usable_size(r) < sizeof(Region)) return nullptr;  // no header
    return r->owner == this && spans(*r, slot, layout_.slot_size) ? r : nullptr;
  }
  Region* region_of(const void* slot) noexcept {
    return const_cast<Region*>(std::as_const(*this).region_of(slot));
  }
  std::size_t ever_used() const noexcept {
    std::size_t n = first_.bump.load(std::memory_order_relaxed);
    for (Region* r = grown_.load(std::memory_order_acquire); r != nullptr; r = r->next)
      n += r->bump.load(std::memory_order_relaxed);
    return n;
  }
  void dispose(Region& r) noexcept {
    detail::unpoison_slots(r.start, r.capacity, slot_shape());
    if (objects_.pre_initialized())
      for (std::size_t i = 0; i < r.capacity; ++i) objects_.dispose(slot_at(r, i));
  }

  FP_FAST_PATH void* take_slot() {
    unsigned cell = detail::thread_cell();
    Cell& c = cells_[cell];
    void* slot = nullptr;
    // Usually the slot this thread released last; acquire pairs with that release (the
    // cell may have passed from an exited thread).
    if (c.cached.load(std::memory_order_relaxed) != nullptr)
      slot = c.cached.exchange(nullptr, std::memory_order_acquire);
    if (FP_UNLIKELY(slot == nullptr)) {
      // Else the magazine's top entry: an exchange, again on this thread's own line.
      unsigned top = c.top.load(std::memory_order_relaxed);
      if (FP_LIKELY(top != 0)) {
        slot = c.entries[--top].exchange(nullptr, std::memory_order_acquire);
        c.top.store(top, std::memory_order_relaxed);
      }
      if (FP_UNLIKELY(slot == nullptr)) slot = refill(cell);
    }
    if (FP_UNLIKELY(slot == nullptr)) {
      if constexpr (kStatisticsEnabled) detail::cell_add(c.failures, cell, 1);
      return nullptr;
    }
    if constexpr (kStatisticsEnabled) detail::cell_add(c.allocations, cell, 1);
    if constexpr (detail::kChecked)
      if (Region* r = region_of(slot); !r->live.mark(index_of(*r, slot)))
        engine::fatal(detail::PoolMessage<"LockFreePool", T,
                                          "internal error: slot handed out twice">::c_str(),
                      slot);
    return slot;
  }
  // The cache slot and the magazine's top entry were empty: a lower entry (where other
  // threads emptied the upper ones), else kBatch slots from the list in one pop_chain
  // (one returned, the others parked), else a slot never used, else another thread's.
  FP_SLOW_PATH void* refill(unsigned cell) {
    Cell& c = cells_[cell];
    for (unsigned top = c.top.load(std::memory_order_relaxed); top != 0;) {
      void* slot = c.entries[--top].exchange(nullptr, std::memory_order_acquire);
      c.top.store(top, std::memory_order_relaxed);
      if (slot != nullptr) return slot;
    }
    std::size_t n = 0;
    engine::FreeBlock* link = free_.pop_chain(cell == detail::kSharedCell ? 1 : kBatch, n);
    if (link == nullptr) return take_fresh(cell);
    detail::cell_add(c.listed, cell, 0 - n);
    // Read the whole chain before parking any of it: a parked slot may at once be taken
    // by another thread, handed out, released and relinked, so its `next` is only ours
    // to read until it is parked.
    void* chain[kBatch];
    for (std::size_t i = 0; i < n; ++i) {
      chain[i] = slot_of(link);
      link = __atomic_load_n(&link->next, __ATOMIC_RELAXED);  // stale after the last
    }
    // top is 0 here, so entries[0, n-1) are null; release publishes each slot's state.
    for (std::size_t i = 1; i < n; ++i) c.entries[i - 1].store(chain[i], std::memory_order_release);
    if (n > 1) c.top.store(static_cast<unsigned>(n - 1), std::memory_order_relaxed);
    return chain[0];
  }
  // A never-used slot from the bump index of the newest region; else a slot parked in
  // another thread's magazine; else one last look at the free list; else growth.
  // Throws: what the growth function or the initializer throws.
  FP_SLOW_PATH void* take_fresh(unsigned cell) {
    for (;;) {
      Region* fresh = fresh_.load(std::memory_order_acquire);
      if (void* slot = take_elsewhere(*fresh, cell)) return slot;
      if (!grows_ || !grow(fresh)) return nullptr;
    }
  }
  void* take_elsewhere(Region& fresh, unsigned cell) noexcept {
    std::size_t i = fresh.bump.load(std::memory_order_relaxed);
    while (i < fresh.capacity)
      if (fresh.bump.compare_exchange_weak(i, i + 1, std::memory_order_relaxed))
        return slot_at(fresh, i);
    for (Cell& c : cells_) {
      if (c.cached.load(std::memory_order_relaxed) != nullptr)
        if (void* slot = c.cached.exchange(nullptr, std::memory_order_acquire)) return slot;
      for (auto& e : c.entries)
        if (e.load(std::memory_order_relaxed) != nullptr)
          if (void* slot = e.exchange(nullptr, std::memory_order_acquire)) return slot;
    }
    void* slot = pop_listed();
    if (slot != nullptr) detail::cell_add(cells_[cell].listed, cell, kMinusOne);
    return slot;
  }
  // No slot anywhere, `seen` the newest region: a new region, the size the growth
  // strategy gives. Returns: true when there is a newer region now (this thread's or
  // another's); false at max_capacity or out of memory.
  FP_SLOW_PATH bool grow(const Region* seen) {
    std::lock_guard guard(grow_lock_);
    if (fresh_.load(std::memory_order_relaxed) != seen) return true;
    std::size_t current = capacity();
    if (current >= max_capacity_) return false;
    std::size_t add = std::min(growth_.slots_to_add(current), max_capacity_ - current);
    if (add == 0 || add > std::numeric_limits<std::size_t>::max() / 2 / layout_.slot_size)
      return false;
    std::size_t align = std::max<std::size_t>(layout_.align, 64);
    std::size_t header = detail::round_up(sizeof(Region), align);
    void* memory = detail::try_allocate_bytes(align, header + add * layout_.slot_size);
    if (memory == nullptr) return false;
    auto* r = ::new (memory) Region;
    r->start = static_cast<char*>(memory) + header;
    r->capacity = add;
    r->owner = this;
    std::size_t built = 0;
    FP_TRY {
      r->live.init(add);
      if (objects_.pre_initialized())
        for (; built < add; ++built) objects_.prepare(slot_at(*r, built));
    }
    FP_CATCH_ALL {
      while (built > 0) objects_.dispose(slot_at(*r, --built));
      r->~Region();
      detail::release_bytes(memory);
      FP_RETHROW;
    }
    detail::poison_slots(r->start, add, slot_shape());
    r->next = grown_.load(std::memory_order_relaxed);
    grown_.store(r, std::memory_order_release);
    grown_capacity_.fetch_add(add, std::memory_order_relaxed);
    fresh_.store(r, std::memory_order_release);
    return true;
  }
  FP_FAST_PATH void give_slot(void* slot) noexcept {
    unsigned cell = detail::thread_cell();
    Cell& c = cells_[cell];
    // Only this thread stores into its cache and entries (thieves only empty them), so
    // an empty cache, or entries[top], seen here stays empty until the store. release:
    // publishes the slot's state to whoever takes it.
    if (FP_LIKELY(cell != detail::kSharedCell)) {
      if (FP_LIKELY(c.cached.load(std::memory_order_relaxed) == nullptr)) {
        c.cached.store(slot, std::memory_order_release);
        return;
      }
      unsigned top = c.top.load(std::memory_order_relaxed);
      if (FP_LIKELY(top < kMagazine)) {
        c.entries[top].store(slot, std::memory_order_release);
        c.top.store(top + 1, std::memory_order_relaxed);
        return;
      }
    }
    park(slot, cell);
  }
  // The magazine is full, or this is the shared cell (no magazine): a full magazine sends
  // its upper kBatch entries to the list as one chain, one push_chain, then takes `slot`.
  FP_SLOW_PATH void park(void* slot, unsigned cell) noexcept {
    if (cell == detail::kSharedCell) return push_listed(slot, cell);
    Cell& c = cells_[cell];
    unsigned top = flush_batch(c, cell);
    c.entries[top].store(slot, std::memory_order_release);
    c.top.store(top + 1, std::memory_order_relaxed);
  }
  // Returns: the new top, kMagazine - kBatch.
  unsigned flush_batch(Cell& c, unsigned cell) noexcept {
    engine::FreeBlock* first = nullptr;
    engine::FreeBlock* last = nullptr;
    std::size_t n = 0;
    for (unsigned i = kMagazine - kBatch; i < kMagazine; ++i)
      if (void* parked = c.entries[i].exchange(nullptr, std::memory_order_acquire)) {
        engine::FreeBlock* link = link_of(parked);
        // Atomic: a racing pop may still read this link from the slot's earlier time on
        // the list (it then fails its CAS).
        __atomic_store_n(&link->next, first, __ATOMIC_RELAXED);
        if (last == nullptr) last = link;
        first = link;
        ++n;
      }
    if (n != 0) {  // else other threads emptied them meanwhile
      detail::cell_add(c.listed, cell, n);
      free_.push_chain(first, last);
    }
    return kMagazine - kBatch;
  }
  void push_listed(void* slot, unsigned cell) noexcept {
    detail::cell_add(cells_[cell].listed, cell, 1);
    free_.push(link_of(slot));
  }
  void undo_take(void* slot) noexcept {
    if constexpr (detail::kChecked)
      if (Region* r = region_of(slot)) r->live.unmark(index_of(*r, slot));
    unsigned cell = detail::thread_cell();
    if constexpr (kStatisticsEnabled) detail::cell_add(cells_[cell].allocations, cell, kMinusOne);
    push_listed(slot, cell);
  }
  bool owns_slot(const void* slot) const noexcept {
    const Region* r = region_of(slot);
    return r != nullptr && static_cast<std::size_t>(static_cast<const char*>(slot) - r->start) %
                                   layout_.slot_size ==
                               0;
  }
  void check_release(void* slot, const T* object) noexcept {
    Region* r = owns_slot(slot) ? region_of(slot) : nullptr;
    if (r == nullptr || index_of(*r, slot) >= r->bump.load(std::memory_order_relaxed))
      engine::fatal(detail::PoolMessage<"LockFreePool", T,
                                        "destroy of a pointer that is not from this pool">::c_str(),
                    object);
    if (!r->live.unmark(index_of(*r, slot)))
      engine::fatal(detail::PoolMessage<"LockFreePool", T, "double destroy">::c_str(), object);
  }
  auto& objects() noexcept { return objects_; }
  const auto& objects() const noexcept { return objects_; }

  // Read-mostly fields first; the contended words each get a cache line of their own.
  detail::SlotLayout layout_;
  detail::Objects<T> objects_;
  bool caller_storage_ = false;  // first_.start is the caller's: never released here
  bool grows_;
  std::size_t max_capacity_;
  GrowthStrategy growth_;
  std::atomic<Region*> grown_{nullptr};  // newest first
  std::atomic<std::size_t> grown_capacity_{0};
  detail::SpinLock grow_lock_;
  alignas(64) engine::AtomicFreeList free_;
  Region first_;                          // its bump has a cache line of its own
  std::atomic<Region*> fresh_{&first_};   // the region with never-used slots, if any
  Cell cells_[detail::kThreadCells + 1];  // [kSharedCell]: threads without a cell of their own
};

FP_MODE_END
}  // namespace fastpool
