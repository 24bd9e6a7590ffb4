// PoolConfig<T>: every knob of a typed pool, validated once by the builder so that the
// pools themselves never see a configuration that cannot work.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "fastpool/errors.hpp"
#include "fastpool/growth.hpp"

namespace fastpool {

template <class T>
class PoolConfig {
 public:
  using Initializer = std::function<T()>;
  using Reset = std::function<void(T&)>;

  class Builder {
   public:
    Builder& capacity(std::size_t n) {
      c_.capacity_ = n;
      return *this;
    }
    // The most slots a growing pool may reach (default: unlimited). FixedPool and
    // ThreadLocalPool ignore it.
    Builder& max_capacity(std::size_t n) {
      c_.max_capacity_ = n;
      return *this;
    }
    // How a GrowingPool grows (default: doubling). ThreadSafePool and LockFreePool grow
    // only when their config names a growth or a max_capacity.
    Builder& growth(GrowthStrategy g) {
      c_.growth_ = std::move(g);
      c_.growth_set_ = true;
      return *this;
    }
    // GrowingPool: give a grown chunk back to the system as soon as its last object
    // returns (default: only shrink_to_fit() does). Fixed pools ignore it.
    Builder& shrink_when_empty(bool on) {
      c_.shrink_when_empty_ = on;
      return *this;
    }
    // Every slot starts at a multiple of max(alignof(T), a); 64 gives each object its
    // own cache lines (no false sharing between neighbours used by different threads).
    Builder& alignment(std::size_t a) {
      c_.alignment_ = a;
      return *this;
    }
    // Build every object up front with the initializer; release runs reset, not ~T.
    Builder& pre_initialize(bool on) {
      c_.pre_initialize_ = on;
      return *this;
    }
    // Called once per object (never copied from a prototype), with pre_initialize.
    Builder& initializer(Initializer fn) {
      c_.initializer_ = std::move(fn);
      return *this;
    }
    // Called on each object returned to a pre-initialised pool.
    Builder& reset(Reset fn) {
      c_.reset_ = std::move(fn);
      return *this;
    }

    // Returns: the validated configuration.
    // Throws: config_error naming the first bad field.
    PoolConfig build() const {
      const PoolConfig& c = c_;
      if (c.capacity_ == 0) detail::raise<config_error>("capacity", "must be greater than zero");
      if (c.max_capacity_ && *c.max_capacity_ < c.capacity_)
        detail::raise<config_error>(
            "max_capacity", "must not be less than capacity (" + std::to_string(c.capacity_) + ")");
      if (c.alignment_ == 0 || (c.alignment_ & (c.alignment_ - 1)) != 0)
        detail::raise<config_error>("alignment", "must be a power of two");
      if (c.alignment_ < alignof(T))
        detail::raise<config_error>("alignment",
                                    "must be at least alignof(T) = " + std::to_string(alignof(T)));
      if (c.alignment_ > kMaxAlignment)
        detail::raise<config_error>("alignment",
                                    "must be at most " + std::to_string(kMaxAlignment));
      if (const char* why = c.growth_.problem()) detail::raise<config_error>("growth", why);
      if (c.pre_initialize_ && !c.initializer_)
        detail::raise<config_error>("pre_initialize", "needs an initializer");
      if (!c.pre_initialize_ && c.initializer_)
        detail::raise<config_error>("initializer", "is only used with pre_initialize(true)");
      if (!c.pre_initialize_ && c.reset_)
        detail::raise<config_error>("reset", "is only used with pre_initialize(true)");
      return c;
    }

   private:
    PoolConfig c_;
  };

  static constexpr std::size_t kMaxAlignment = 4096;

  static Builder builder() { return Builder{}; }

  // Returns: a valid configuration of `capacity` slots and defaults elsewhere.
  // Throws: config_error when capacity is 0.
  static PoolConfig with_capacity(std::size_t capacity) {
    return builder().capacity(capacity).build();
  }

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t max_capacity() const noexcept {
    return max_capacity_.value_or(std::numeric_limits<std::size_t>::max());
  }
  const GrowthStrategy& growth() const noexcept { return growth_; }
  // True when the config names a growth or a maximum: the shared pools then grow.
  bool grows() const noexcept { return growth_set_ || max_capacity_.has_value(); }
  std::size_t alignment() const noexcept { return alignment_; }
  bool pre_initialize() const noexcept { return pre_initialize_; }
  bool shrink_when_empty() const noexcept { return shrink_when_empty_; }
  const Initializer& initializer() const noexcept { return initializer_; }
  const Reset& reset() const noexcept { return reset_; }

 private:
  PoolConfig() = default;

  std::size_t capacity_ = 0;
  std::optional<std::size_t> max_capacity_;
  GrowthStrategy growth_;
  bool growth_set_ = false;
  std::size_t alignment_ = alignof(T);
  bool pre_initialize_ = false;
  bool shrink_when_empty_ = false;
  Initializer initializer_;
  Reset reset_;
};

}  // namespace fastpool
