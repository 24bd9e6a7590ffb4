// realloc: resize in place where the block's kind allows, move only when it must.
//
//   small  stays while the new size fits and is at least half the block (a shrink by
//          more than half moves to a smaller class, so shrink-to-fit frees the memory);
//          growing past kMaxSmall moves it to a large span, which then grows in place;
//   large  grows into the free slices after it, shrinks by giving slices back; moves to a
//          class when it shrinks below kMaxClassSize by more than half;
//   huge   grows and shrinks with mremap (moving pages, never bytes); moves to a class or
//          a large block only when it shrinks below kMaxLarge / 2, so ping-pong across
//          the large/huge boundary moves once, not every time.
#include <cstring>

#include "api/alloc.hpp"
#include "segment/huge.hpp"

namespace fastpool {
namespace {

void* move_block(void* p, std::size_t old, std::size_t size) noexcept {
  void* q = size > old && size > kMaxSmall ? malloc_growable(size) : malloc_fast(size);
  if (q == nullptr) return nullptr;  // errno set; p untouched
  std::memcpy(q, p, size < old ? size : old);
  free_fast(p);
  return q;
}

}  // namespace

void* resize_block(void* p, Page* pg, std::size_t size) noexcept {
  std::size_t old = usable_size(p);
  switch (pg->kind) {
    case PageKind::huge:
      if (size <= kMaxLarge / 2) return nullptr;
      if (void* q = huge::resize(pg, size)) return q;
      return size <= old ? p : nullptr;
    case PageKind::large:
      if (size <= kMaxClassSize && size < old / 2) return nullptr;
      return heap::large_resize(pg, size) ? p : nullptr;
    default:
      return size <= old && (size >= old / 2 || old <= 64) ? p : nullptr;
  }
}

void* realloc_impl(void* p, std::size_t size) noexcept {
  if (p == nullptr) return malloc_fast(size);
  if (size == 0) {  // glibc: frees and returns NULL
    free_fast(p);
    return nullptr;
  }
  Page* pg = validated_page_of(p, true);
  if (void* q = resize_block(p, pg, size)) return q;
  return move_block(p, usable_size(p), size);
}

}  // namespace fastpool
