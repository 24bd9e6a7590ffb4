// The intrusive free list: the one LIFO list of free blocks every pool engine uses.
// A free block's first word links to the next free block, so the list costs no memory.
#pragma once

#include "fastpool/engine/platform.hpp"

namespace fastpool::engine {

struct FreeBlock {
  FreeBlock* next;
};

// Owner-only (no synchronisation). Invariant: `head_` is null or the first of a chain of
// distinct free blocks ending in null; no block on it is handed out.
class FreeList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  FreeBlock* head() const noexcept { return head_; }

  FP_FAST_PATH void push(void* block) noexcept {
    auto* b = static_cast<FreeBlock*>(block);
    b->next = head_;
    head_ = b;
  }

  // Returns a block, or null when empty.
  FP_FAST_PATH void* pop() noexcept {
    FreeBlock* b = head_;
    if (FP_LIKELY(b != nullptr)) head_ = b->next;
    return b;
  }

  // Prepends the chain first..last (last->next is overwritten).
  void push_chain(FreeBlock* first, FreeBlock* last) noexcept {
    last->next = head_;
    head_ = first;
  }

  FreeBlock* take_all() noexcept {
    FreeBlock* b = head_;
    head_ = nullptr;
    return b;
  }

  // O(n); for debug checks (double free) only.
  bool contains(const void* block) const noexcept {
    for (FreeBlock* b = head_; b != nullptr; b = b->next)
      if (b == block) return true;
    return false;
  }

 private:
  FreeBlock* head_ = nullptr;
};

}  // namespace fastpool::engine
