// Slot strategies: how a typed pool remembers which of its slots are free. Each names an
// engine block pool (all share FixedBlockPool's interface, and init() takes where a free
// block's link word goes, which the engines that never write free blocks ignore) and
// whether free slots hold a link. All three take blocks from a never-used tail one at a
// time, so touched_blocks() is the peak; all are O(1) (bitmap: up to 2^18 slots per run)
// with the same observable behaviour; they differ in memory and in where the bookkeeping
// lives.
#pragma once

#include <concepts>
#include <cstddef>

#include "fastpool/engine/bitmap_block_pool.hpp"
#include "fastpool/engine/linked_block_pool.hpp"
#include "fastpool/engine/stack_block_pool.hpp"

namespace fastpool {

// Intrusive LIFO list threaded through the free slots themselves, the default: no
// memory beyond the slots (a pre-initialised pool's slot holds the link behind its
// object, one word), and the most recently released slot, still warm in cache, is
// handed out next.
struct FreeListStrategy {
  using block_pool = engine::LinkedBlockPool;
  static constexpr bool links_in_slot = true;
  static constexpr const char* name = "free-list";
};

// LIFO stack of free slot addresses beside the slots (8 bytes per slot): the same order
// as the free list, but a free slot's bytes are never written at all.
struct StackStrategy {
  using block_pool = engine::StackBlockPool;
  static constexpr bool links_in_slot = false;  // free slots are never written
  static constexpr const char* name = "stack";
};

// One bit per slot (plus 1 bit per 64 slots of summary); lowest free slot first.
struct BitmapStrategy {
  using block_pool = engine::BitmapBlockPool;
  static constexpr bool links_in_slot = false;
  static constexpr const char* name = "bitmap";
};

template <class S>
concept SlotStrategy = requires(typename S::block_pool& p, void* v, const void* cv, std::size_t n) {
  { S::block_pool::index_bytes(n) } -> std::convertible_to<std::size_t>;
  p.init(v, n, n, v, n);
  { p.allocate() } -> std::same_as<void*>;
  p.deallocate(v);
  { p.contains(cv) } -> std::convertible_to<bool>;
  { p.index_of(cv) } -> std::convertible_to<std::size_t>;
  { p.block_at(n) } -> std::same_as<void*>;
  { p.used() } -> std::convertible_to<std::size_t>;
  { p.capacity() } -> std::convertible_to<std::size_t>;
  { S::links_in_slot } -> std::convertible_to<bool>;
};

}  // namespace fastpool
