// The bitmap engine: a fixed run of blocks whose free blocks are marked by one bit each
// in a separate bitmap (1 = free), with a summary bitmap (1 = that word has a free bit)
// so that finding a free block reads two words for pools up to 64 * 64 * 64 blocks.
// Like StackBlockPool it never writes into a free block; it costs 1 bit per block
// instead of a pointer. Same interface as FixedBlockPool.
//
// Invariants:
//   BlockRun's; a set bit marks a free touched block;
//   summary bit w is set iff word w of bits_ is nonzero; free_count_ == set bits;
//   every summary word below summary_hint_ is zero;
//   the tail is only taken from when free_count_ == 0, so touched_blocks() is the peak.
#pragma once

#include <cstring>

#include "fastpool/engine/block_run.hpp"

namespace fastpool::engine {

class BitmapBlockPool : public BlockRun {
 public:
  BitmapBlockPool() = default;

  static constexpr std::size_t word_count(std::size_t capacity) noexcept {
    return (capacity + 63) / 64;
  }
  static constexpr std::size_t index_bytes(std::size_t capacity) noexcept {
    return (word_count(capacity) + word_count(word_count(capacity))) * sizeof(std::uint64_t);
  }

  // REQUIRES: as StackBlockPool::init; index is index_bytes(capacity) bytes, 8-aligned.
  void init(void* storage, std::size_t block_size, std::size_t capacity, void* index,
            std::size_t /*link_offset: free blocks are never written*/ = 0) noexcept {
    init_run(storage, block_size, capacity);
    bits_ = static_cast<std::uint64_t*>(index);
    summary_ = bits_ + word_count(capacity);
    std::memset(index, 0, index_bytes(capacity));
    free_count_ = 0;
    summary_hint_ = 0;
  }

  FP_FAST_PATH void* allocate() noexcept {
    if (FP_LIKELY(free_count_ != 0)) return take_marked();
    return take_from_tail();
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

  // O(1): true when `p` is a free block.
  bool is_free(const void* p) const noexcept {
    std::size_t i = index_of(p);
    return (bits_[i / 64] >> (i % 64)) & 1;
  }

  std::size_t used() const noexcept { return touched_blocks() - free_count_; }
  std::size_t available() const noexcept { return capacity() - used(); }
  bool full() const noexcept { return free_count_ == 0 && tail_empty(); }
  bool unused() const noexcept { return used() == 0; }

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
    return block_at(w * 64 + bit);
  }

  std::size_t free_count_ = 0;
  std::size_t summary_hint_ = 0;
  std::uint64_t* bits_ = nullptr;
  std::uint64_t* summary_ = nullptr;
};

}  // namespace fastpool::engine
