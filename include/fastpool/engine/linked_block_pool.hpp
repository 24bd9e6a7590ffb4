// The linked engine: a fixed run of blocks whose free blocks form a LIFO list through a
// link word inside each free block, `link_offset` bytes in (0, or behind an object that
// waits in its slot). It needs no memory beyond the blocks, and like the other BlockRun
// engines takes blocks from the tail one at a time, so touched_blocks() is the peak.
// Same interface as FixedBlockPool.
//
// Not engine::FreeList: under ASan a typed pool poisons free slots whole, so the links
// are read and written only through the two accessors below. The list links link words,
// not blocks: head_ and every link point at the next free
// block's link word, so that popping and pushing chain through memory with no offset in
// between (the offset only turns a link word into its block, off that chain).
//
// Invariants:
//   BlockRun's; head_ is null or the link word of the first of free_count_ distinct
//   touched blocks, each linking to the next one's link word, the last to null; none of
//   them is handed out; the tail is only taken from when the list is empty.
#pragma once

#include "fastpool/engine/block_run.hpp"

namespace fastpool::engine {

class LinkedBlockPool : public BlockRun {
 public:
  LinkedBlockPool() = default;

  static constexpr std::size_t index_bytes(std::size_t) noexcept { return 0; }

  // REQUIRES: storage is block_size * capacity bytes aligned for the blocks;
  // link_offset + sizeof(void*) <= block_size, link_offset a multiple of alignof(void*).
  void init(void* storage, std::size_t block_size, std::size_t capacity, void* /*index*/,
            std::size_t link_offset = 0) noexcept {
    init_run(storage, block_size, capacity);
    head_ = nullptr;
    free_count_ = 0;
    link_offset_ = link_offset;
  }

  // A free block, most recently returned first; null when the pool is full.
  FP_FAST_PATH void* allocate() noexcept {
    if (void* b = pop_free(); FP_LIKELY(b != nullptr)) return b;
    return take_from_tail();
  }
  // A block from the free list only (the tail is left alone); null when it is empty.
  FP_FAST_PATH void* pop_free() noexcept {
    void** link = head_;
    if (link == nullptr) return nullptr;
    head_ = static_cast<void**>(load_link(link));
    --free_count_;
    return reinterpret_cast<char*>(link) - link_offset_;
  }
  bool has_free_list() const noexcept { return head_ != nullptr; }

  // REQUIRES: `block` was handed out by this pool and not returned since.
  FP_FAST_PATH void deallocate(void* block) noexcept {
    FP_ASSERT(contains(block));
    void** link = link_of(block);
    store_link(link, head_);
    head_ = link;
    ++free_count_;
  }

  std::size_t used() const noexcept { return touched_blocks() - free_count_; }
  std::size_t available() const noexcept { return capacity() - used(); }
  bool full() const noexcept { return head_ == nullptr && tail_empty(); }
  bool unused() const noexcept { return used() == 0; }

 private:
  void** link_of(void* block) const noexcept {
    return reinterpret_cast<void**>(static_cast<char*>(block) + link_offset_);
  }
  // A typed pool under AddressSanitizer poisons its free slots whole, link words
  // included (detail/poison.hpp): only the engine may touch a link.
  __attribute__((no_sanitize("address"))) static void* load_link(void** at) noexcept { return *at; }
  __attribute__((no_sanitize("address"))) static void store_link(void** at, void* v) noexcept {
    *at = v;
  }

  // Hot fields first: the fast paths read these three only.
  void** head_ = nullptr;  // the link word of the first free block
  std::size_t free_count_ = 0;
  std::size_t link_offset_ = 0;
};

}  // namespace fastpool::engine
