// ThreadCell: a small index per live thread, so that a pool shared by threads can keep a
// counter per thread that only its thread writes (a plain load and store, no atomic
// read-modify-write on the hot path) and sum the counters when asked.
//
// Threads get indices [0, kThreadCells) while some are free; an index goes back when its
// thread exits, so a process that keeps starting threads does not run out. Threads
// beyond that share index kThreadCells, whose counter the pools update atomically.
#pragma once

#include <atomic>
#include <cstdint>

#include "fastpool/engine/platform.hpp"

namespace fastpool::detail {

inline constexpr unsigned kThreadCells = 32;
inline constexpr unsigned kSharedCell = kThreadCells;  // counted with atomic RMWs

namespace thread_cell_state {
inline constexpr unsigned kUnassigned = ~0u;
// Trivial, so reading it is one thread-local load with no initialisation check (and it
// stays readable while the thread's other thread_locals are destroyed).
inline thread_local unsigned current = kUnassigned;
inline std::atomic<std::uint64_t> taken{0};  // bit i: index i belongs to a live thread

// Gives the index back when the thread exits; later uses on this thread (from other
// thread_local destructors) fall back to the shared cell.
struct Releaser {
  ~Releaser() {
    unsigned i = current;
    current = kSharedCell;
    if (i < kThreadCells) taken.fetch_and(~(std::uint64_t{1} << i), std::memory_order_release);
  }
};

FP_SLOW_PATH inline unsigned assign() noexcept {
  std::uint64_t bits = taken.load(std::memory_order_relaxed);
  unsigned i = kSharedCell;
  while (~bits != 0) {
    unsigned free_bit = static_cast<unsigned>(__builtin_ctzll(~bits));
    // acquire: the previous holder's counter updates happen before ours.
    if (taken.compare_exchange_weak(bits, bits | (std::uint64_t{1} << free_bit),
                                    std::memory_order_acquire, std::memory_order_relaxed)) {
      i = free_bit;
      break;
    }
  }
  current = i;
  if (i < kThreadCells) {
    static thread_local Releaser releaser;  // registers the exit hook (once per thread)
    (void)releaser;
  }
  return i;
}
}  // namespace thread_cell_state

// Returns: the calling thread's cell index, in [0, kThreadCells]; kSharedCell means the
// counter must be updated atomically.
FP_FAST_PATH unsigned thread_cell() noexcept {
  unsigned i = thread_cell_state::current;
  if (FP_UNLIKELY(i == thread_cell_state::kUnassigned)) i = thread_cell_state::assign();
  return i;
}

// A counter with one writer (the cell's thread), or several for the shared cell.
// Adds `d` (which may be negative, as unsigned wrap-around).
FP_FAST_PATH void cell_add(std::atomic<std::size_t>& counter, unsigned cell,
                           std::size_t d) noexcept {
  if (FP_LIKELY(cell != kSharedCell))
    counter.store(counter.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
  else
    counter.fetch_add(d, std::memory_order_relaxed);
}

}  // namespace fastpool::detail
