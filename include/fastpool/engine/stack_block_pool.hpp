// The stack engine: a fixed run of blocks like FixedBlockPool, but its free blocks are
// kept as a LIFO stack of block addresses in a separate array instead of inside the
// blocks. A free block's bytes are therefore never written, which is what pools of
// pre-initialised objects need (the object waits in its slot, intact). Same interface
// as FixedBlockPool, so GrowingBlockPool chunks may hold either.
//
// Addresses rather than indices are stacked so that neither direction needs a multiply
// or a divide; the price is 8 bytes of index per block.
//
// Invariants:
//   BlockRun's; [stack_, top_) holds distinct touched blocks, none handed out;
//   the tail is only taken from when the stack is empty, so touched_blocks() is the peak.
#pragma once

#include "fastpool/engine/block_run.hpp"

namespace fastpool::engine {

class StackBlockPool : public BlockRun {
 public:
  StackBlockPool() = default;

  // Bytes of index storage that init() needs for `capacity` blocks.
  static constexpr std::size_t index_bytes(std::size_t capacity) noexcept {
    return capacity * sizeof(void*);
  }

  // REQUIRES: storage is block_size * capacity bytes aligned for the blocks; index is
  // index_bytes(capacity) bytes aligned for void*.
  void init(void* storage, std::size_t block_size, std::size_t capacity, void* index,
            std::size_t /*link_offset: free blocks are never written*/ = 0) noexcept {
    init_run(storage, block_size, capacity);
    stack_ = static_cast<void**>(index);
    top_ = stack_;
  }

  // A free block, most recently returned first; null when the pool is full.
  FP_FAST_PATH void* allocate() noexcept {
    if (FP_LIKELY(top_ != stack_)) {
      void* b = *--top_;
      if (b == nullptr) __builtin_unreachable();  // blocks are never null: callers skip the check
      return b;
    }
    return take_from_tail();
  }

  // REQUIRES: `block` was handed out by this pool and not returned since.
  FP_FAST_PATH void deallocate(void* block) noexcept {
    FP_ASSERT(contains(block));
    FP_ASSERT(top_ < stack_ + capacity());
    *top_++ = block;
  }

  std::size_t used() const noexcept {
    return touched_blocks() - static_cast<std::size_t>(top_ - stack_);
  }
  std::size_t available() const noexcept { return capacity() - used(); }
  bool full() const noexcept { return top_ == stack_ && tail_empty(); }
  bool unused() const noexcept { return used() == 0; }

 private:
  // Hot fields first: the fast path reads top_ and stack_ only.
  void** top_ = nullptr;
  void** stack_ = nullptr;
};

}  // namespace fastpool::engine
