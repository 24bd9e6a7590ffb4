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
  static void prepare() noexcept {}  // nothing to set up before the first block
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
  std::size_t count() const noexcept {
    std::size_t n = 0;
    for (FreeBlock* b = head_; b != nullptr; b = b->next) ++n;
    return n;
  }

 private:
  FreeBlock* head_ = nullptr;
};

#ifdef FASTPOOL_SECURE
// Hardened builds store a TaggedFreeList's links xor-ed with this per-process secret (from
// the kernel's AT_RANDOM bytes; every thread derives the same, at any time, so a relaxed
// load is enough). Zero until derived: TaggedFreeList::prepare derives it, and every
// pool engine calls its list's prepare before the list can hold a block, so the links'
// encoding reads it without a test.
extern FP_INTERNAL std::uintptr_t g_link_key;
FP_COLD std::uintptr_t derive_link_key() noexcept;
inline std::uintptr_t link_key() noexcept {
  return __atomic_load_n(&g_link_key, __ATOMIC_RELAXED);
}
inline void prepare_link_key() noexcept {
  if (FP_UNLIKELY(link_key() == 0)) derive_link_key();
}
#else
inline void prepare_link_key() noexcept {}
#endif

// The global allocator's free list: FreeList's operations, and every block on it carries
// the list's tag (its own address) in its second word, which a pop clears. A block whose
// second word is the tag is free, or on its way back to the list (a remote free writes
// the tag too), so a second free of it is found with one compare and no list walk.
// Blocks handed out always start with a zero second word: only a program that copies
// a free block's contents, or writes the tag itself, can make a live block look free.
// Hardened builds (FASTPOOL_SECURE) also encode every link and check it before it is
// followed: it must decode to a block in the list's own 2^RegionShift-aligned region
// that carries the list's tag; a corrupted link is reported, never followed.
// REQUIRES: blocks of at least two words, in the region of the list object.
template <unsigned RegionShift>
class TaggedFreeList {
 public:
  static void prepare() noexcept { prepare_link_key(); }  // before the first push
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
    b->next = encode(head_);
    b->tag = tag();
    head_ = b;
  }

  FP_FAST_PATH void* pop() noexcept {
    TaggedBlock* b = head_;
    if (FP_LIKELY(b != nullptr)) {
      head_ = next_of(b);
      b->tag = 0;
    }
    return b;
  }

  // pop, after checking the head block against what a write after free breaks: its tag,
  // and its link, which must be null or a block of [lo, hi) with the tag. Reports a
  // broken one and aborts. For pops off the fast path (the global allocator's classes
  // past the malloc tables, 32 KiB and up), where the compares do not show.
  void* pop_verified(const char* lo, const char* hi) noexcept {
    TaggedBlock* b = head_;
    if (b == nullptr) return nullptr;
    TaggedBlock* n = encode(b->next);  // xor: encoding decodes
    auto* c = reinterpret_cast<const char*>(n);
    if (FP_UNLIKELY(b->tag != tag() ||
                    (n != nullptr && (c < lo || c + sizeof(TaggedBlock) > hi || n->tag != tag()))))
      fatal("malloc(): free list corrupted (a write after free or an overflow)", b);
    head_ = n;
    b->tag = 0;
    return b;
  }

  // Prepends the chain first..last (plain links; last->next is overwritten), tagging
  // (and in hardened builds encoding) every block.
  void push_chain(FreeBlock* first, FreeBlock* last) noexcept {
    for (FreeBlock* b = first;;) {
      FreeBlock* next = b == last ? head() : b->next;
      auto* t = reinterpret_cast<TaggedBlock*>(b);
      t->next = encode(reinterpret_cast<TaggedBlock*>(next));
      t->tag = tag();
      if (b == last) break;
      b = next;
    }
    head_ = reinterpret_cast<TaggedBlock*>(first);
  }

  std::size_t count() const noexcept {
    std::size_t n = 0;
    for (TaggedBlock* b = head_; b != nullptr; b = next_of(b)) ++n;
    return n;
  }
  bool contains(const void* block) const noexcept {
    for (TaggedBlock* b = head_; b != nullptr; b = next_of(b))
      if (b == block) return true;
    return false;
  }
  // Another thread's walk, while the owner may be changing the list: f(block) for the
  // blocks reachable from the head through links into [lo, hi) that carry the tag, at
  // most `limit`; it stops at any other link and never aborts, so it only ever reads
  // inside [lo, hi). Returns how many. Exact when the owner is idle.
  template <class F>
  std::size_t for_each_observed(const char* lo, const char* hi, std::size_t limit,
                                F f) const noexcept {
    std::size_t n = 0;
    for (TaggedBlock* b = __atomic_load_n(&head_, __ATOMIC_RELAXED); n < limit; ++n) {
      auto* c = reinterpret_cast<const char*>(b);
      if (c < lo || c + sizeof(TaggedBlock) > hi ||
          __atomic_load_n(&b->tag, __ATOMIC_RELAXED) != tag())
        break;
      TaggedBlock* next = encode(__atomic_load_n(&b->next, __ATOMIC_RELAXED));  // xor: decodes
      f(static_cast<void*>(b));
      b = next;
    }
    return n;
  }
  std::size_t count_observed(const char* lo, const char* hi, std::size_t limit) const noexcept {
    return for_each_observed(lo, hi, limit, [](void*) {});
  }

 private:
#ifdef FASTPOOL_SECURE
  TaggedBlock* encode(TaggedBlock* next) const noexcept {
    return reinterpret_cast<TaggedBlock*>(reinterpret_cast<std::uintptr_t>(next) ^ link_key() ^
                                          tag());
  }
  TaggedBlock* next_of(const TaggedBlock* b) const noexcept {
    auto* n = encode(b->next);  // xor: encoding twice decodes
    if (FP_UNLIKELY(n != nullptr &&
                    (((reinterpret_cast<std::uintptr_t>(n) ^ tag()) >> RegionShift) != 0 ||
                     n->tag != tag())))
      fatal("malloc(): free list corrupted (a write after free or an overflow)", b);
    return n;
  }
#else
  static TaggedBlock* encode(TaggedBlock* next) noexcept {
    return next;
  }
  static TaggedBlock* next_of(const TaggedBlock* b) noexcept {
    return b->next;
  }
#endif

  TaggedBlock* head_ = nullptr;
};

}  // namespace fastpool::engine
