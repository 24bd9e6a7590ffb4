// FrameArena: a monotonic bump allocator for data that dies together (a game frame, a
// request, a parse), over the caller's storage or one block of engine memory. Allocation
// is a pointer bump; nothing is freed one by one: reset() empties the arena, and
// rewind(mark) gives back everything allocated since mark(), newest first.
//
// Objects with a non-trivial destructor are allowed: create() records the destructor in
// the arena itself (a 24-byte record after the object), and reset/rewind run those of
// the objects they give back, in reverse order of creation.
//
// Invariants: begin_ <= top_ <= end_; [begin_, top_) is handed out; dtors_ is null or the
// newest record, each linking to the next older one at a lower address, all inside
// [begin_, top_), each after the object it destroys (and after what that object's
// constructor made in the arena).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#include "fastpool/detail/objects.hpp"
#include "fastpool/errors.hpp"

namespace fastpool {

class FrameArena {
  struct DtorRecord {
    void (*destroy)(void*);
    void* object;
    DtorRecord* older;
  };

 public:
  // A point to rewind to: what was allocated after it goes back.
  struct Mark {
    std::byte* top;
  };

  // Effects: an arena over the caller's storage, which it keeps (no allocation, no system
  // call, now or later).
  explicit FrameArena(std::span<std::byte> storage) noexcept
      : begin_(storage.data()), top_(begin_), end_(begin_ + storage.size()) {}
  // Effects: an arena of `bytes` bytes from the fastpool engine. Throws: std::bad_alloc.
  explicit FrameArena(std::size_t bytes)
      : begin_(static_cast<std::byte*>(detail::allocate_bytes(64, bytes))),
        top_(begin_),
        end_(begin_ + bytes),
        owned_(true) {}
  FrameArena(const FrameArena&) = delete;
  FrameArena& operator=(const FrameArena&) = delete;
  // Effects: reset(), then the engine memory goes back.
  ~FrameArena() {
    reset();
    if (owned_) detail::release_bytes(begin_);
  }

  // Returns: `size` bytes aligned to `align` (a power of two), or null when they do not
  // fit. Never throws.
  FP_FAST_PATH void* try_allocate(std::size_t size,
                                  std::size_t align = alignof(std::max_align_t)) noexcept {
    if (FP_UNLIKELY(align == 0 || (align & (align - 1)) != 0)) return nullptr;
    auto at = (reinterpret_cast<std::uintptr_t>(top_) + align - 1) & ~(align - 1);
    auto limit = reinterpret_cast<std::uintptr_t>(end_);
    if (FP_UNLIKELY(at > limit || limit - at < size)) return nullptr;
    top_ = reinterpret_cast<std::byte*>(at + size);
    return reinterpret_cast<void*>(at);
  }
  // Returns: as try_allocate. Throws: std::bad_alloc when they do not fit.
  void* allocate(std::size_t size, std::size_t align = alignof(std::max_align_t)) {
    void* p = try_allocate(size, align);
    if (FP_UNLIKELY(p == nullptr)) detail::raise<std::bad_alloc>();
    return p;
  }

  // Returns: a new T(args...), its destructor (if any) run by reset/rewind, or null when
  // it does not fit. Throws: what T's constructor throws (the space is given back).
  template <class T, class... Args>
  T* try_create(Args&&... args) {
    Mark before = mark();
    void* at = try_allocate(sizeof(T), alignof(T));
    if (at == nullptr) return nullptr;
    T* object;
    FP_TRY {
      object = ::new (at) T(std::forward<Args>(args)...);
    }
    FP_CATCH_ALL {
      rewind(before);  // objects the constructor made in the arena go too
      FP_RETHROW;
    }
    if constexpr (!std::is_trivially_destructible_v<T>) {
      // After the object, so after whatever its constructor made here: records then lie
      // newest at the highest address.
      void* record = try_allocate(sizeof(DtorRecord), alignof(DtorRecord));
      if (record == nullptr) {
        object->~T();
        rewind(before);
        return nullptr;
      }
      dtors_ = ::new (record) DtorRecord{[](void* o) { static_cast<T*>(o)->~T(); }, object, dtors_};
    }
    return object;
  }
  // Returns: as try_create. Throws: std::bad_alloc when it does not fit; what T's
  // constructor throws.
  template <class T, class... Args>
  T* create(Args&&... args) {
    T* object = try_create<T>(std::forward<Args>(args)...);
    if (FP_UNLIKELY(object == nullptr)) detail::raise<std::bad_alloc>();
    return object;
  }
  // Returns: n default-initialised T (trivially destructible only: no record per
  // element), or null when they do not fit.
  template <class T>
  T* try_create_array(std::size_t n) noexcept {
    static_assert(std::is_trivially_destructible_v<T>,
                  "FrameArena arrays hold trivially destructible types; use create() per "
                  "object for others");
    if (n > (end_ - begin_) / sizeof(T)) return nullptr;
    void* at = try_allocate(n * sizeof(T), alignof(T));
    return at == nullptr ? nullptr : ::new (at) T[n];
  }

  Mark mark() const noexcept { return {top_}; }
  // Effects: destroys the objects created since `m`, newest first, and gives their space
  // back. A mark beyond what is in use (taken before a reset or an earlier rewind) aborts
  // with a message.
  void rewind(Mark m) noexcept {
    if (m.top < begin_ || m.top > top_)
      engine::fatal("FrameArena: rewind to a mark that is no longer in use", m.top);
    // Records lie in the space they describe: every one at or above the mark goes.
    while (dtors_ != nullptr && reinterpret_cast<std::byte*>(dtors_) >= m.top) {
      DtorRecord* r = dtors_;
      dtors_ = r->older;
      r->destroy(r->object);
    }
    top_ = m.top;
  }
  // Effects: rewind to the start: every object destroyed, all space free.
  void reset() noexcept { rewind({begin_}); }

  std::size_t capacity() const noexcept { return static_cast<std::size_t>(end_ - begin_); }
  std::size_t used() const noexcept { return static_cast<std::size_t>(top_ - begin_); }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - top_); }

 private:
  std::byte* begin_;
  std::byte* top_;
  std::byte* end_;
  DtorRecord* dtors_ = nullptr;
  bool owned_ = false;
};

}  // namespace fastpool
