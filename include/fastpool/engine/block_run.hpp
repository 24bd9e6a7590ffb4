// A fixed run of `capacity` equal blocks with a bump pointer over its never-used tail:
// the bookkeeping shared by the engines that keep their free blocks in a side index
// (StackBlockPool, BitmapBlockPool). They take blocks from the tail one at a time, so
// bump_ marks the peak and memory is touched on demand.
//
// Invariants: start_ <= bump_ <= end_, (end_ - start_) == capacity_ * block_size_.
#pragma once

#include "fastpool/engine/platform.hpp"

namespace fastpool::engine {

class BlockRun {
 public:
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
  // Blocks ever handed out: the peak number in use at once.
  std::size_t touched_blocks() const noexcept {
    return static_cast<std::size_t>(bump_ - start_) / block_size_;
  }
  bool tail_empty() const noexcept { return bump_ == end_; }
  char* start() const noexcept { return start_; }
  char* end() const noexcept { return end_; }

 protected:
  // REQUIRES: storage is block_size * capacity bytes aligned for the blocks.
  void init_run(void* storage, std::size_t block_size, std::size_t capacity) noexcept {
    start_ = static_cast<char*>(storage);
    bump_ = start_;
    end_ = start_ + block_size * capacity;
    block_size_ = block_size;
    capacity_ = capacity;
  }

  // The next never-used block; null when the tail is used up.
  FP_SLOW_PATH void* take_from_tail() noexcept {
    if (bump_ == end_) return nullptr;
    void* b = bump_;
    bump_ += block_size_;
    return b;
  }

 private:
  char* bump_ = nullptr;
  char* start_ = nullptr;
  char* end_ = nullptr;
  std::size_t block_size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace fastpool::engine
