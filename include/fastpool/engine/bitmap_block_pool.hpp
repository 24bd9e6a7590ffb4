// The bitmap engine: a fixed run of blocks whose free blocks are marked by one bit each
// in a separate bitmap (1 = free), with a summary bitmap (1 = that word has a free bit)
// so that finding a free block reads two words for pools up to 64 * 64 * 64 blocks.
// Like StackBlockPool it never writes into a free block; it costs 1 bit per block
// instead of a pointer. Same interface as FixedBlockPool.
//
// Invariants:
//   start_ <= bump_ <= end_; a set bit marks a free block below bump_;
//   summary bit w is set iff word w of bits_ is nonzero; free_count_ == set bits;
//   every summary word below summary_hint_ is zero;
//   bump_ only moves when free_count_ == 0, so touched_blocks() is the peak usage.
#pragma once

#include <cstring>

#include "fastpool/engine/platform.hpp"

namespace fastpool::engine {

class BitmapBlockPool {
 public:
  BitmapBlockPool() = default;

  static constexpr std::size_t word_count(std::size_t capacity) noexcept {
    return (capacity + 63) / 64;
  }
  static constexpr std::size_t index_bytes(std::size_t capacity) noexcept {
    return (word_count(capacity) + word_count(word_count(capacity))) * sizeof(std::uint64_t);
  }

  // REQUIRES: as StackBlockPool::init; index is index_bytes(capacity) bytes, 8-aligned.
  void init(void* storage, std::size_t block_size, std::size_t capacity, void* index) noexcept {
    start_ = static_cast<char*>(storage);
    bump_ = start_;
    end_ = start_ + block_size * capacity;
    block_size_ = block_size;
    capacity_ = capacity;
    bits_ = static_cast<std::uint64_t*>(index);
    summary_ = bits_ + word_count(capacity);
    std::memset(index, 0, index_bytes(capacity));
    free_count_ = 0;
    summary_hint_ = 0;
  }

  FP_FAST_PATH void* allocate() noexcept {
    if (FP_LIKELY(free_count_ != 0)) return take_marked();
    return allocate_from_tail();
  }

  // REQUIRES: `block` was handed out by this pool and not returned since.
  FP_FAST_PATH void deallocate(void* block) noexcept {
    FP_ASSERT(contains(block));
    std::size_t i = index_of(block);
    std::size_t w = i / 64;
    FP_ASSERT((bits_[w] & (std::uint64_t{1} << (i % 64))) == 0);
    bits_[w] |= std::uint64_t{1} << (i % 64);
    summary_[w / 64] |= std::uint64_t{1} << (w % 64);
    if (w / 64 < summary_hint_) summary_hint_ = w / 64;
    ++free_count_;
  }

  bool contains(const void* p) const noexcept {
    auto* c = static_cast<const char*>(p);
    return c >= start_ && c < bump_ && static_cast<std::size_t>(c - start_) % block_size_ == 0;
  }
  std::size_t index_of(const void* p) const noexcept {
    return static_cast<std::size_t>(static_cast<const char*>(p) - start_) / block_size_;
  }
  void* block_at(std::size_t index) const noexcept { return start_ + index * block_size_; }
  // O(1): true when `p` is a free block.
  bool is_free(const void* p) const noexcept {
    std::size_t i = index_of(p);
    return (bits_[i / 64] >> (i % 64)) & 1;
  }

  std::size_t block_size() const noexcept { return block_size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t touched_blocks() const noexcept {
    return static_cast<std::size_t>(bump_ - start_) / block_size_;
  }
  std::size_t used() const noexcept { return touched_blocks() - free_count_; }
  std::size_t available() const noexcept { return capacity_ - used(); }
  bool full() const noexcept { return free_count_ == 0 && bump_ == end_; }
  bool unused() const noexcept { return used() == 0; }
  char* start() const noexcept { return start_; }
  char* end() const noexcept { return end_; }

 private:
  // pre: free_count_ > 0. Lowest free block first (address order keeps memory dense).
  void* take_marked() noexcept {
    std::size_t s = summary_hint_;
    while (summary_[s] == 0) ++s;  // bounded: a set bit exists at or above the hint
    summary_hint_ = s;
    std::size_t w = s * 64 + static_cast<std::size_t>(__builtin_ctzll(summary_[s]));
    std::size_t bit = static_cast<std::size_t>(__builtin_ctzll(bits_[w]));
    bits_[w] &= bits_[w] - 1;
    if (bits_[w] == 0) summary_[s] &= ~(std::uint64_t{1} << (w % 64));
    --free_count_;
    return start_ + (w * 64 + bit) * block_size_;
  }

  FP_SLOW_PATH void* allocate_from_tail() noexcept {
    if (bump_ == end_) return nullptr;
    void* b = bump_;
    bump_ += block_size_;
    return b;
  }

  std::size_t free_count_ = 0;
  std::size_t summary_hint_ = 0;
  std::uint64_t* bits_ = nullptr;
  std::uint64_t* summary_ = nullptr;
  char* bump_ = nullptr;
  char* start_ = nullptr;
  char* end_ = nullptr;
  std::size_t block_size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace fastpool::engine
