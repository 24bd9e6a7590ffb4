// Intrusive doubly linked list of chunks (pages, typed-pool chunks). The growing engine
// keeps its chunks on two of these; nothing else links chunks.
#pragma once

#include "fastpool/engine/platform.hpp"

namespace fastpool::engine {

// Chunk must have `Chunk* next; Chunk* prev;`. Invariant: a chunk is on at most one list.
template <class Chunk>
class ChunkList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  Chunk* front() const noexcept { return head_; }
  std::size_t size() const noexcept { return size_; }

  void push_front(Chunk* c) noexcept {
    c->prev = nullptr;
    c->next = head_;
    if (head_ != nullptr)
      head_->prev = c;
    else
      tail_ = c;
    head_ = c;
    ++size_;
  }
  void push_back(Chunk* c) noexcept {
    c->next = nullptr;
    c->prev = tail_;
    if (tail_ != nullptr)
      tail_->next = c;
    else
      head_ = c;
    tail_ = c;
    ++size_;
  }
  void remove(Chunk* c) noexcept {
    if (c->prev != nullptr)
      c->prev->next = c->next;
    else
      head_ = c->next;
    if (c->next != nullptr)
      c->next->prev = c->prev;
    else
      tail_ = c->prev;
    c->next = c->prev = nullptr;
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
      Chunk* next = c->next;
      f(c);
      c = next;
    }
  }

 private:
  Chunk* head_ = nullptr;
  Chunk* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace fastpool::engine
