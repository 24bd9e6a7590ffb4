// The fixed engine: one contiguous run of `capacity` blocks of `block_size` bytes.
// Blocks are handed out from the free list first, then from a bump pointer over the
// never-used tail, so a new pool touches no memory up front. A page of the global
// allocator is one TaggedBlockPool (free blocks tagged, for double-free checks); the typed
// FixedPool<T> is a FixedBlockPool.
//
// Invariants:
//   start_ <= bump_ <= end_, (end_ - start_) == capacity * block_size;
//   every block on free_ lies in [start_, bump_) at a multiple of block_size;
//   used_ == (bump_ - start_) / block_size - |free_|   (blocks out with clients).
#pragma once

#include "fastpool/engine/free_list.hpp"

namespace fastpool::engine {

template <class List>
class BasicFixedBlockPool {
 public:
  BasicFixedBlockPool() = default;

  // REQUIRES: block_size >= sizeof(FreeBlock) and a multiple of alignof(FreeBlock);
  // storage is `block_size * capacity` bytes, aligned for the blocks it will hold.
  void init(void* storage, std::size_t block_size, std::size_t capacity) noexcept {
    start_ = static_cast<char*>(storage);
    bump_ = start_;
    end_ = start_ + block_size * capacity;
    block_size_ = static_cast<std::uint32_t>(block_size);
    capacity_ = static_cast<std::uint32_t>(capacity);
    used_ = 0;
    free_ = List{};
    List::prepare();
  }

  // Like init, for storage whose blocks are all in use already (a block being resized
  // in place, say): nothing is written to the storage.
  void init_all_used(void* storage, std::size_t block_size, std::size_t capacity) noexcept {
    init(storage, block_size, capacity);
    bump_ = end_;
    used_ = capacity_;
  }

  // The fast path: a block from the free list, or null. Never touches the bump tail.
  FP_FAST_PATH void* pop_free() noexcept {
    void* b = free_.pop();
    if (FP_LIKELY(b != nullptr)) ++used_;
    return b;
  }

  // The uncounted pair, for a client that keeps used() exact some other way: the global
  // allocator's current page skips the count on its fast paths and calls recount_used()
  // or mark_all_used() before it relies on used() again.
  FP_FAST_PATH void* pop_uncounted() noexcept { return free_.pop(); }
  FP_FAST_PATH void push_uncounted(void* block) noexcept { free_.push(block); }
  // The count goes stale on purpose (uncounted pushes and pops follow): used() keeps the
  // value it had, and the raw count stays above 0 until recount_used(), mark_all_used()
  // or init() sets it again.
  void mark_uncounted() noexcept { used_ |= kUncounted; }
  // Pushes, counting `d` blocks fewer: d is 0 (push_uncounted) or 1 (deallocate), and no
  // branch tells them apart. True when no block is left out: only for d = 1, or where the
  // count is uncounted and not marked so.
  FP_FAST_PATH bool push_counting(void* block, std::uint32_t d) noexcept {
    used_ -= d;
    free_.push(block);
    return used_ == 0;
  }
  // pop_uncounted, the block and its link checked first (TaggedFreeList::pop_verified).
  void* pop_verified_uncounted() noexcept { return free_.pop_verified(start_, bump_); }
  // O(free blocks): used = blocks carved from the tail - blocks on the free list.
  void recount_used() noexcept {
    used_ = static_cast<std::uint32_t>(touched_bytes() / block_size_ - free_.count());
  }
  // REQUIRES: full(): every block is out.
  void mark_all_used() noexcept { used_ = capacity_; }

  // A free block, from the free list or else the bump tail; null when the pool is full.
  FP_FAST_PATH void* allocate() noexcept {
    if (void* b = pop_free()) return b;
    return allocate_from_tail();
  }

  // REQUIRES: `block` was handed out by this pool and not returned since.
  FP_FAST_PATH void deallocate(void* block) noexcept {
    FP_ASSERT(contains(block));
    free_.push(block);
    --used_;
  }

  // Moves up to `max_blocks` blocks from the bump tail onto the free list, so that later
  // allocations take the fast path. Returns how many were moved.
  std::size_t extend(std::size_t max_blocks) noexcept {
    // Linked in address order so the first pops walk memory forwards.
    std::size_t avail = static_cast<std::size_t>(end_ - bump_) / block_size_;
    std::size_t n = avail < max_blocks ? avail : max_blocks;
    if (n == 0) return 0;
    char* first = bump_;
    char* last = bump_ + (n - 1) * block_size_;
    for (char* b = first; b < last; b += block_size_)
      reinterpret_cast<FreeBlock*>(b)->next = reinterpret_cast<FreeBlock*>(b + block_size_);
    free_.push_chain(reinterpret_cast<FreeBlock*>(first), reinterpret_cast<FreeBlock*>(last));
    bump_ = last + block_size_;
    return n;
  }

  bool contains(const void* p) const noexcept {
    auto* c = static_cast<const char*>(p);
    return c >= start_ && c < bump_ && (c - start_) % block_size_ == 0;
  }
  std::size_t index_of(const void* p) const noexcept {
    return static_cast<std::size_t>(static_cast<const char*>(p) - start_) / block_size_;
  }
  void* block_at(std::size_t index) const noexcept { return start_ + index * block_size_; }

  // O(n): true when `p` is on the free list. For debug double-free checks.
  bool is_free(const void* p) const noexcept { return free_.contains(p); }
  const List& free_list() const noexcept { return free_; }

  std::size_t block_size() const noexcept { return block_size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t used() const noexcept { return used_ & ~kUncounted; }
  // used() as another thread may read it while the owner counts (statistics).
  std::size_t used_observed() const noexcept {
    return __atomic_load_n(&used_, __ATOMIC_RELAXED) & ~kUncounted;
  }
  std::size_t available() const noexcept { return capacity_ - used(); }
  bool full() const noexcept { return free_.empty() && bump_ == end_; }
  bool unused() const noexcept { return used() == 0; }
  bool has_free_list() const noexcept { return !free_.empty(); }
  char* start() const noexcept { return start_; }
  char* end() const noexcept { return end_; }
  // Bytes ever handed out: [start, bump) may be dirty, [bump, end) was never touched.
  std::size_t touched_bytes() const noexcept { return static_cast<std::size_t>(bump_ - start_); }

  // Blocks returned in a chain (e.g. collected remote frees): `count` blocks first..last.
  void deallocate_chain(FreeBlock* first, FreeBlock* last, std::size_t count) noexcept {
    free_.push_chain(first, last);
    used_ -= static_cast<std::uint32_t>(count);
  }

 private:
  // Carves a batch (about 4 KiB, at least one block) so the next allocations hit
  // pop_free. Carving writes each block's link word: more than a page's worth would
  // fault in memory no one asked for yet.
  FP_SLOW_PATH void* allocate_from_tail() noexcept {
    std::size_t batch = 4096 / block_size_;
    if (extend(batch < 1 ? 1 : batch) == 0) return nullptr;
    return pop_free();
  }

  // Hot fields first: the fast path reads free_ and used_ only.
  List free_;
  // Blocks out; with kUncounted set, as they were when the count went stale (capacity
  // stays below the bit).
  static constexpr std::uint32_t kUncounted = std::uint32_t{1} << 31;
  std::uint32_t used_ = 0;
  std::uint32_t block_size_ = 0;
  char* bump_ = nullptr;
  char* start_ = nullptr;
  char* end_ = nullptr;
  std::uint32_t capacity_ = 0;
};

using FixedBlockPool = BasicFixedBlockPool<FreeList>;
template <unsigned RegionShift>
using TaggedBlockPool = BasicFixedBlockPool<TaggedFreeList<RegionShift>>;

}  // namespace fastpool::engine
