// The intrusive free list: the one LIFO list of free blocks every pool engine uses.
// A free block's first word links to the next free block, so the list costs no memory.
#pragma once

#include "fastpool/engine/platform.hpp"

namespace fastpool::engine {

struct FreeBlock {
  FreeBlock* next;
};

// A free block of a TaggedFreeList: its second word holds the list's tag.
struct TaggedBlock {
  TaggedBlock* next;
  std::uintptr_t tag;
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

// The global allocator's free list: FreeList's operations, and every block on it carries
// the list's tag (its own address) in its second word, which a pop clears. A block whose
// second word is the tag is free, or on its way back to the list (a remote free writes
// the tag too), so a second free of it is found with one compare and no list walk.
// Blocks handed out always start with a zero second word: only a program that copies
// a free block's contents, or writes the tag itself, can make a live block look free.
// REQUIRES: blocks of at least two words.
class TaggedFreeList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  FreeBlock* head() const noexcept { return reinterpret_cast<FreeBlock*>(head_); }
  std::uintptr_t tag() const noexcept { return reinterpret_cast<std::uintptr_t>(this); }
  FP_FAST_PATH bool is_tagged(const void* block) const noexcept {
    return static_cast<const TaggedBlock*>(block)->tag == tag();
  }
  FP_FAST_PATH static void set_tag(void* block, std::uintptr_t tag) noexcept {
    static_cast<TaggedBlock*>(block)->tag = tag;
  }

  FP_FAST_PATH void push(void* block) noexcept {
    auto* b = static_cast<TaggedBlock*>(block);
    b->next = head_;
    b->tag = tag();
    head_ = b;
  }

  FP_FAST_PATH void* pop() noexcept {
    TaggedBlock* b = head_;
    if (FP_LIKELY(b != nullptr)) {
      head_ = b->next;
      b->tag = 0;
    }
    return b;
  }

  // Prepends the chain first..last (last->next is overwritten), tagging every block.
  void push_chain(FreeBlock* first, FreeBlock* last) noexcept {
    last->next = head();
    for (FreeBlock* b = first; b != head(); b = b->next) set_tag(b, tag());
    head_ = reinterpret_cast<TaggedBlock*>(first);
  }

  FreeBlock* take_all() noexcept {
    FreeBlock* b = head();
    head_ = nullptr;
    return b;
  }

  bool contains(const void* block) const noexcept {
    for (TaggedBlock* b = head_; b != nullptr; b = b->next)
      if (b == block) return true;
    return false;
  }

 private:
  TaggedBlock* head_ = nullptr;
};

}  // namespace fastpool::engine
