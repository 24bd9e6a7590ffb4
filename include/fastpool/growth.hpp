// How a GrowingPool grows when it runs out of slots. A value type: linear, exponential
// or custom; the pool clips the last step to its max_capacity.
#pragma once

#include <cmath>
#include <cstddef>
#include <functional>
#include <utility>

namespace fastpool {

class GrowthStrategy {
 public:
  enum class Kind { linear, exponential, custom };

  // Returns: a strategy that adds `slots` slots per growth. build() rejects 0.
  static GrowthStrategy linear(std::size_t slots) {
    GrowthStrategy g(Kind::linear);
    g.amount_ = slots;
    return g;
  }
  // Returns: a strategy that grows capacity c to max(c + 1, ceil(c * factor)).
  // build() rejects factor <= 1 (it would never grow) and NaN.
  static GrowthStrategy exponential(double factor) {
    GrowthStrategy g(Kind::exponential);
    g.factor_ = factor;
    return g;
  }
  // Returns: a strategy that adds fn(current_capacity) slots; 0 means "do not grow".
  static GrowthStrategy custom(std::function<std::size_t(std::size_t)> fn) {
    GrowthStrategy g(Kind::custom);
    g.custom_ = std::move(fn);
    return g;
  }

  // The default: doubling, the usual amortised-O(1) choice.
  GrowthStrategy() : GrowthStrategy(exponential(2.0)) {}

  Kind kind() const noexcept { return kind_; }
  std::size_t amount() const noexcept { return amount_; }
  double factor() const noexcept { return factor_; }

  // Returns: how many slots to add to a pool of `current` slots, before clipping to the
  // maximum. Throws: what a custom function throws.
  std::size_t slots_to_add(std::size_t current) const {
    switch (kind_) {
      case Kind::linear:
        return amount_;
      case Kind::exponential: {
        double target = std::ceil(static_cast<double>(current) * factor_);
        auto next = static_cast<std::size_t>(target);
        return next > current ? next - current : 1;
      }
      case Kind::custom:
        return custom_(current);
    }
    return 0;
  }

  // Returns: the reason this strategy cannot work, or null when it is valid.
  const char* problem() const noexcept {
    switch (kind_) {
      case Kind::linear:
        return amount_ == 0 ? "linear growth must add at least one slot" : nullptr;
      case Kind::exponential:
        return !(factor_ > 1.0) ? "exponential factor must be greater than 1" : nullptr;
      case Kind::custom:
        return !custom_ ? "custom growth function is empty" : nullptr;
    }
    return nullptr;
  }

 private:
  explicit GrowthStrategy(Kind k) : kind_(k) {}

  Kind kind_;
  std::size_t amount_ = 0;
  double factor_ = 0;
  std::function<std::size_t(std::size_t)> custom_;
};

}  // namespace fastpool
