// SpinLock: the lock of ThreadSafePool and the synchronised PoolResource. Uncontended it
// costs one atomic exchange to take and a plain release store to drop (a mutex costs
// two atomic read-modify-writes); contended it spins briefly, then yields, so that
// oversubscribed threads let the holder run.
#pragma once

#include <atomic>
#include <thread>

#include "fastpool/engine/platform.hpp"

namespace fastpool::detail {

class SpinLock {
 public:
  FP_FAST_PATH void lock() noexcept {
    if (FP_LIKELY(!locked_.exchange(true, std::memory_order_acquire))) return;
    lock_contended();
  }
  FP_FAST_PATH void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  FP_SLOW_PATH void lock_contended() noexcept {
    for (int spins = 0;; ++spins) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (spins < 64) {
          cpu_relax();
          ++spins;
        } else {
          std::this_thread::yield();
        }
      }
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
    }
  }

  static void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  std::atomic<bool> locked_{false};
};

}  // namespace fastpool::detail
