// Intrusive doubly linked list: the one list of pages, chunks, segments and heaps. The
// growing engine keeps its chunks on two of these; the router files segments and heaps
// on others, through link members of their own (Next/Prev), so one object can be on
// several lists at once.
#pragma once

#include "fastpool/engine/platform.hpp"

namespace fastpool::engine {

// Invariant: a chunk is on at most one list per pair of link members.
template <class Chunk, Chunk* Chunk::*Next = &Chunk::next, Chunk* Chunk::*Prev = &Chunk::prev>
class ChunkList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  Chunk* front() const noexcept { return head_; }
  Chunk* back() const noexcept { return tail_; }
  static Chunk* next(const Chunk* c) noexcept { return c->*Next; }
  static Chunk* prev(const Chunk* c) noexcept { return c->*Prev; }
  std::size_t size() const noexcept { return size_; }

  void push_front(Chunk* c) noexcept {
    c->*Prev = nullptr;
    c->*Next = head_;
    if (head_ != nullptr)
      head_->*Prev = c;
    else
      tail_ = c;
    head_ = c;
    ++size_;
  }
  void push_back(Chunk* c) noexcept {
    c->*Next = nullptr;
    c->*Prev = tail_;
    if (tail_ != nullptr)
      tail_->*Next = c;
    else
      head_ = c;
    tail_ = c;
    ++size_;
  }
  void remove(Chunk* c) noexcept {
    if (c->*Prev != nullptr)
      (c->*Prev)->*Next = c->*Next;
    else
      head_ = c->*Next;
    if (c->*Next != nullptr)
      (c->*Next)->*Prev = c->*Prev;
    else
      tail_ = c->*Prev;
    c->*Next = c->*Prev = nullptr;
    --size_;
  }
  Chunk* pop_front() noexcept {
    Chunk* c = head_;
    if (c != nullptr) remove(c);
    return c;
  }
  // Calls f(chunk) for each chunk; f may remove the chunk it is given.
  template <class F>
  void for_each(F&& f) {
    for (Chunk* c = head_; c != nullptr;) {
      Chunk* following = c->*Next;
      f(c);
      c = following;
    }
  }

 private:
  Chunk* head_ = nullptr;
  Chunk* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace fastpool::engine
