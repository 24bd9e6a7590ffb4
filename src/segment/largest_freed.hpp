// The largest block of a kind (large spans, huge mappings) freed so far, process-wide.
//
// A block freed more than a quarter past it is most likely a buffer that outgrew every
// earlier one: one that doubles frees each size once, after its successor is mapped. Its
// memory goes back to the OS at once, as glibc unmaps its mmapped chunks, instead of
// staying resident beside that successor for the purge delay. A size that recurs stays
// resident for reuse from its second free on; sizes that creep up by small steps give
// back one block per quarter of growth.
#pragma once

#include <atomic>
#include <cstddef>

namespace fastpool {

class LargestFreed {
 public:
  // Records a free of `bytes`; true when it outgrows every earlier one.
  bool outgrown_by(std::size_t bytes) noexcept {
    std::size_t top = top_.load(std::memory_order_relaxed);
    do {
      if (bytes <= top + top / 4) return false;
    } while (!top_.compare_exchange_weak(top, bytes, std::memory_order_relaxed));
    return true;
  }

 private:
  std::atomic<std::size_t> top_{0};
};

}  // namespace fastpool
