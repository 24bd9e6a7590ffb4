// The lock-free engine: an atomic stack of free blocks that any thread may push to.
// Two ways to take blocks out:
//  - take_all(): one exchange empties the list. No ABA is possible because nothing
//    is read through the old head. This is where frees from other threads land.
//  - pop(): takes one block for pools whose every consumer is concurrent. The head
//    carries a 16-bit version tag in its unused top bits, so a head that was popped
//    and pushed back between our load and our CAS is told apart.
//    REQUIRES: blocks stay mapped while the list lives (pool storage, never unmapped),
//    since a racing pop may read `next` of a block another thread just took.
//  - pop_chain(max): up to `max` blocks with that one tagged CAS, for per-thread caches
//    that refill in batches (the contended head is touched once per batch). Same
//    REQUIRES as pop().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "fastpool/engine/free_list.hpp"

namespace fastpool::engine {

class AtomicFreeList {
 public:
  bool empty() const noexcept { return pointer(head_.load(std::memory_order_relaxed)) == nullptr; }

  FP_FAST_PATH void push(void* block) noexcept {
    auto* b = static_cast<FreeBlock*>(block);
    push_chain(b, b);
  }

  // Pushes first..last in one CAS.
  FP_FAST_PATH void push_chain(FreeBlock* first, FreeBlock* last) noexcept {
    std::uint64_t old = head_.load(std::memory_order_relaxed);
    std::uint64_t desired;
    do {
      __atomic_store_n(&last->next, pointer(old), __ATOMIC_RELAXED);
      desired = pack(first, tag(old) + 1);
    } while (!head_.compare_exchange_weak(old, desired, std::memory_order_release,
                                          std::memory_order_relaxed));
  }

  FP_FAST_PATH FreeBlock* take_all() noexcept {
    if (pointer(head_.load(std::memory_order_relaxed)) == nullptr) return nullptr;
    std::uint64_t old = head_.exchange(0, std::memory_order_acquire);
    return pointer(old);
  }

  FP_FAST_PATH void* pop() noexcept {
    std::uint64_t old = head_.load(std::memory_order_acquire);
    for (;;) {
      FreeBlock* b = pointer(old);
      if (b == nullptr) return nullptr;
      FreeBlock* next = __atomic_load_n(&b->next, __ATOMIC_RELAXED);
      if (head_.compare_exchange_weak(old, pack(next, tag(old) + 1), std::memory_order_acquire,
                                      std::memory_order_acquire))
        return b;
    }
  }

  // Returns: the first of `count` (<= max) blocks taken with one CAS, linked through
  // `next` (the last one's `next` is stale: use `count`), or null (count 0) when empty.
  // The walk is consistent because every push and pop bumps the tag: an unchanged head
  // at the CAS means no block on the walked prefix was taken or pushed meanwhile.
  // REQUIRES: max >= 1.
  FreeBlock* pop_chain(std::size_t max, std::size_t& count) noexcept {
    std::uint64_t old = head_.load(std::memory_order_acquire);
    for (;;) {
      FreeBlock* first = pointer(old);
      if (first == nullptr) {
        count = 0;
        return nullptr;
      }
      FreeBlock* last = first;
      std::size_t n = 1;
      FreeBlock* rest = __atomic_load_n(&last->next, __ATOMIC_RELAXED);
      for (; n < max && rest != nullptr; ++n) {
        last = rest;
        rest = __atomic_load_n(&last->next, __ATOMIC_RELAXED);
      }
      if (head_.compare_exchange_weak(old, pack(rest, tag(old) + 1), std::memory_order_acquire,
                                      std::memory_order_acquire)) {
        count = n;
        return first;
      }
    }
  }

 private:
  static constexpr int kPointerBits = 48;  // x86-64 and AArch64 user space
  static constexpr std::uint64_t kPointerMask = (std::uint64_t{1} << kPointerBits) - 1;
  static FreeBlock* pointer(std::uint64_t v) noexcept {
    return reinterpret_cast<FreeBlock*>(v & kPointerMask);
  }
  static std::uint64_t tag(std::uint64_t v) noexcept { return v >> kPointerBits; }
  static std::uint64_t pack(FreeBlock* p, std::uint64_t t) noexcept {
    return reinterpret_cast<std::uint64_t>(p) | (t << kPointerBits);
  }

  std::atomic<std::uint64_t> head_{0};
};

}  // namespace fastpool::engine
