// SlotRun: one contiguous run of T slots over a strategy's engine block pool: the
// memory, the objects' lifecycle, the statistics counters and the misuse checks. It is
// single-threaded; FixedPool uses it as is, ThreadLocalPool behind engine::ThreadOwned,
// ThreadSafePool behind a lock.
//
// Memory: one block, [index of the strategy | slots | live bits], from the fastpool engine
// (live bits then allocated apart, checked code only) or from the caller, who keeps it.
// Invariants: engine_.capacity() == capacity of the config; every slot handed out and
// not returned has its live bit set (checked builds); pre-initialised pools keep an
// object in every slot from construction to destruction.
#pragma once

#include <cstdint>
#include <limits>
#include <span>

#include "fastpool/config.hpp"
#include "fastpool/detail/diagnostics.hpp"
#include "fastpool/detail/objects.hpp"
#include "fastpool/slot_strategy.hpp"
#include "fastpool/statistics.hpp"

namespace fastpool::detail {
FP_MODE_BEGIN

// The counters that cannot be derived from the engine. Deallocations are not counted:
// they are allocations minus objects in use.
struct Counters {
  std::size_t allocations = 0;
  std::size_t failures = 0;
  std::size_t peak = 0;

  FP_FAST_PATH void on_take([[maybe_unused]] std::size_t in_use, bool track_peak) noexcept {
    if constexpr (kStatisticsEnabled) {
      ++allocations;
      if (track_peak && in_use > peak) peak = in_use;
    }
  }
  void on_failure() noexcept {
    if constexpr (kStatisticsEnabled) ++failures;
  }
  void on_undo() noexcept {
    if constexpr (kStatisticsEnabled) --allocations;
  }
  PoolStatistics snapshot(std::size_t capacity, std::size_t in_use, std::size_t peak_usage,
                          std::size_t growths) const noexcept {
    PoolStatistics s;
    s.capacity = capacity;
    s.in_use = in_use;
    s.growth_count = growths;
    if constexpr (kStatisticsEnabled) {
      s.peak_usage = peak_usage;
      s.total_allocations = allocations;
      s.total_deallocations = allocations - in_use;
      s.allocation_failures = failures;
    }
    return s;
  }
};

template <class T, SlotStrategy S, Literal Kind>
class SlotRun {
 public:
  using Engine = typename S::block_pool;
  using ObjectsT = Objects<T>;

  // An empty run (so that engine::ThreadOwned can hold one); init() makes it usable.
  SlotRun() = default;
  explicit SlotRun(const PoolConfig<T>& config) { init(config); }

  // Bytes of caller storage a run of `capacity` slots of layout `l` needs, at an address
  // aligned to l.align.
  static constexpr std::size_t required_bytes(std::size_t capacity, const SlotLayout& l) noexcept {
    return CallerStorage::required(
        round_up(Engine::index_bytes(capacity), l.align) + capacity * l.slot_size, capacity);
  }
  static constexpr SlotLayout default_layout() noexcept {
    return make_layout<T>(alignof(T), S::links_in_slot, false);
  }
  static SlotLayout layout_of(const PoolConfig<T>& config) noexcept {
    return make_layout<T>(config.alignment(), S::links_in_slot, config.pre_initialize());
  }
  SlotRun(const SlotRun&) = delete;
  SlotRun& operator=(const SlotRun&) = delete;

  // Effects: allocates the slots (and builds the objects of a pre-initialised pool).
  // Throws: config_error for a capacity too large to address; std::bad_alloc; what
  // the initializer throws (nothing is kept then).
  // `storage`: the caller's (no allocation at all, kept by the caller), or empty for
  // memory from the engine. Throws: config_error for storage too small or misaligned.
  void init(const PoolConfig<T>& config, std::span<std::byte> storage = {}) {
    FP_ASSERT(memory_ == nullptr);
    layout_ = layout_of(config);
    objects_ = ObjectsT(config);
    std::size_t n = config.capacity();
    std::size_t limit = std::numeric_limits<std::uint32_t>::max() / layout_.slot_size;
    if (n > limit) detail::raise<config_error>("capacity", "too large for one pool");
    std::size_t index = round_up(Engine::index_bytes(n), layout_.align);
    void* memory;
    void* bits = nullptr;
    if (storage.empty()) {
      memory = allocate_bytes(layout_.align, index + n * layout_.slot_size);
    } else {
      bits = CallerStorage::check(storage, index + n * layout_.slot_size, n, layout_.align);
      memory = storage.data();
      caller_storage_ = true;
    }
    char* slots = static_cast<char*>(memory) + index;
    std::size_t built = 0;
    FP_TRY {
      live_.init(n, bits);
      if (objects_.pre_initialized())
        for (; built < n; ++built) objects_.prepare(slots + built * layout_.slot_size);
    }
    FP_CATCH_ALL {
      while (built > 0) objects_.dispose(slots + --built * layout_.slot_size);
      if (!caller_storage_) release_bytes(memory);
      FP_RETHROW;
    }
    memory_ = memory;
    engine_.init(slots, layout_.slot_size, n, memory, layout_.link_offset);
    poison_slots(slots, n, slot_shape());
  }

  // REQUIRES: no object in use (checked builds abort with the count otherwise).
  template <class Message>
  void destroy() noexcept {
    if (memory_ == nullptr) return;
    if constexpr (kChecked)
      if (engine_.used() != 0) fatal_in_use<Message>(engine_.used(), this);
    unpoison_slots(engine_.block_at(0), engine_.capacity(), slot_shape());
    if (objects_.pre_initialized())
      for (std::size_t i = 0; i < engine_.capacity(); ++i) objects_.dispose(engine_.block_at(i));
    if (!caller_storage_) release_bytes(memory_);
    memory_ = nullptr;
  }

  // CountFailure false: the caller still has other places to look (ThreadSafePool's
  // thread caches) and counts the failure itself with count_failure().
  template <bool CountFailure = true>
  FP_FAST_PATH void* take_slot() noexcept {
    void* slot = engine_.allocate();
    if (FP_UNLIKELY(slot == nullptr)) {
      if constexpr (CountFailure) counters_.on_failure();
      return nullptr;
    }
    counters_.on_take(0, false);  // the engine's touched blocks are the peak
    if constexpr (kChecked) mark(slot);
    return slot;
  }
  void count_failure() noexcept { counters_.on_failure(); }
  FP_FAST_PATH void give_slot(void* slot) noexcept { engine_.deallocate(slot); }
  void undo_take(void* slot) noexcept {
    if constexpr (kChecked) live_.unmark(engine_.index_of(slot));
    counters_.on_undo();
    engine_.deallocate(slot);
  }
  // True when `slot` lies in this run's slots (no check that it starts one).
  bool spans(const void* slot) const noexcept {
    auto* c = static_cast<const char*>(slot);
    return c >= engine_.start() && c < engine_.end();
  }
  bool owns_slot(const void* slot) const noexcept {
    return spans(slot) &&
           static_cast<std::size_t>(static_cast<const char*>(slot) - engine_.start()) %
                   layout_.slot_size ==
               0;
  }
  void check_release(void* slot, const T* object) noexcept {
    if (!engine_.contains(slot))
      engine::fatal(
          PoolMessage<Kind, T, "destroy of a pointer that is not from this pool">::c_str(), object);
    if (!live_.unmark(engine_.index_of(slot)))
      engine::fatal(PoolMessage<Kind, T, "double destroy">::c_str(), object);
  }

  ObjectsT& objects() noexcept { return objects_; }
  const ObjectsT& objects() const noexcept { return objects_; }
  std::size_t capacity() const noexcept { return engine_.capacity(); }
  std::size_t in_use() const noexcept { return engine_.used(); }
  std::size_t available() const noexcept { return engine_.capacity() - engine_.used(); }
  const SlotLayout& layout() const noexcept { return layout_; }
  // The engines reach their link words past ASan (engine/linked_block_pool.hpp).
  SlotShape slot_shape() const noexcept { return {layout_.slot_size, kNoLink}; }
  PoolStatistics statistics() const noexcept {
    return counters_.snapshot(capacity(), in_use(), engine_.touched_blocks(), 0);
  }

 private:
  void mark(void* slot) noexcept {
    if (!live_.mark(engine_.index_of(slot)))
      engine::fatal(PoolMessage<Kind, T, "internal error: slot handed out twice">::c_str(), slot);
  }

  // Hot fields first.
  Engine engine_;
  ObjectsT objects_{};
  Counters counters_;
  LiveBits live_;
  SlotLayout layout_;
  void* memory_ = nullptr;
  bool caller_storage_ = false;
};

// The caller-storage sizes of a pool over one SlotRun (FixedPool, ThreadLocalPool,
// ThreadSafePool): `Pool::required_bytes(capacity)` bytes at an address aligned to
// `Pool::storage_alignment` (a config with its own alignment or pre-initialisation:
// required_bytes(config), aligned to config.alignment() or more).
template <class Run>
struct RunStorage {
  static constexpr std::size_t storage_alignment = Run::default_layout().align;
  static constexpr std::size_t required_bytes(std::size_t capacity) noexcept {
    return Run::required_bytes(capacity, Run::default_layout());
  }
  template <class Config>
  static std::size_t required_bytes(const Config& config) noexcept {
    return Run::required_bytes(config.capacity(), Run::layout_of(config));
  }
};

FP_MODE_END
}  // namespace fastpool::detail
