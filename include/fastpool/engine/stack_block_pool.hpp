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
//   start_ <= bump_ <= end_, (end_ - start_) == capacity * block_size;
//   [stack_, top_) holds distinct blocks of [start_, bump_), none handed out;
//   bump_ only moves when the stack is empty, so touched_blocks() is the peak usage.
#pragma once

#include "fastpool/engine/platform.hpp"

namespace fastpool::engine {

class StackBlockPool {
 public:
  StackBlockPool() = default;

  // Bytes of index storage that init() needs for `capacity` blocks.
  static constexpr std::size_t index_bytes(std::size_t capacity) noexcept {
    return capacity * sizeof(void*);
  }

  // REQUIRES: storage is block_size * capacity bytes aligned for the blocks; index is
  // index_bytes(capacity) bytes aligned for void*.
  void init(void* storage, std::size_t block_size, std::size_t capacity, void* index) noexcept {
    start_ = static_cast<char*>(storage);
    bump_ = start_;
    end_ = start_ + block_size * capacity;
    block_size_ = block_size;
    capacity_ = capacity;
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
    return allocate_from_tail();
  }

  // REQUIRES: `block` was handed out by this pool and not returned since.
  FP_FAST_PATH void deallocate(void* block) noexcept {
    FP_ASSERT(contains(block));
    FP_ASSERT(top_ < stack_ + capacity_);
    *top_++ = block;
  }

  bool contains(const void* p) const noexcept {
    auto* c = static_cast<const char*>(p);
    return c >= start_ && c < bump_ && static_cast<std::size_t>(c - start_) % block_size_ == 0;
  }
  std::size_t index_of(const void* p) const noexcept {
    return static_cast<std::size_t>(static_cast<const char*>(p) - start_) / block_size_;
  }
  void* block_at(std::size_t index) const noexcept { return start_ + index * block_size_; }

  std::size_t block_size() const noexcept { return block_size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t touched_blocks() const noexcept {
    return static_cast<std::size_t>(bump_ - start_) / block_size_;
  }
  std::size_t used() const noexcept {
    return touched_blocks() - static_cast<std::size_t>(top_ - stack_);
  }
  std::size_t available() const noexcept { return capacity_ - used(); }
  bool full() const noexcept { return top_ == stack_ && bump_ == end_; }
  bool unused() const noexcept { return used() == 0; }
  char* start() const noexcept { return start_; }
  char* end() const noexcept { return end_; }

 private:
  // One block at a time, so that bump_ marks the peak and memory is touched on demand.
  FP_SLOW_PATH void* allocate_from_tail() noexcept {
    if (bump_ == end_) return nullptr;
    void* b = bump_;
    bump_ += block_size_;
    return b;
  }

  // Hot fields first: the fast path reads top_ and stack_ only.
  void** top_ = nullptr;
  void** stack_ = nullptr;
  char* bump_ = nullptr;
  char* start_ = nullptr;
  char* end_ = nullptr;
  std::size_t block_size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace fastpool::engine
