// A lock for short critical sections that must be constant-initialised (it sits in
// heaps, including the constinit placeholder heap) and trivially reset after fork.
// Waiters yield the CPU instead of spinning hard: the holder may be descheduled.
#pragma once

#include <sched.h>

#include <atomic>

namespace fastpool::os {

class SpinLock {
 public:
  bool try_lock() noexcept {
    return !held_.load(std::memory_order_relaxed) &&
           !held_.exchange(true, std::memory_order_acquire);
  }
  void lock() noexcept {
    for (int spins = 0; !try_lock(); ++spins)
      if (spins >= 64) sched_yield();
  }
  void unlock() noexcept { held_.store(false, std::memory_order_release); }
  // The child of fork: the holder, if any, does not exist there.
  void reset() noexcept { held_.store(false, std::memory_order_relaxed); }

 private:
  std::atomic<bool> held_{false};
};

class SpinGuard {
 public:
  explicit SpinGuard(SpinLock& l) noexcept : l_(l) { l_.lock(); }
  ~SpinGuard() { l_.unlock(); }
  SpinGuard(const SpinGuard&) = delete;
  SpinGuard& operator=(const SpinGuard&) = delete;

 private:
  SpinLock& l_;
};

}  // namespace fastpool::os
