// RAII handles to pooled objects. A handle remembers its pool through a pointer to the
// pool and to a static table of the pool type's operations; the table is a constant, so
// when allocation and release are inlined into one function the release call is direct.
//
//   OwnedHandle<T>   sole owner (like unique_ptr); move-only; returns the object on reset.
//   SharedHandle<T>  shared owner (like shared_ptr); the last copy returns the object.
//                    Its count is atomic exactly when the pool is shared between threads.
//   WeakHandle<T>    observes a SharedHandle's object without keeping it out of the pool.
//
// REQUIRES (all handles): the pool outlives every handle to its objects.
#pragma once

#include <atomic>
#include <cstddef>
#include <new>
#include <utility>

#include "fastpool/engine/platform.hpp"
#include "fastpool/fastpool.h"

namespace fastpool {

template <class T>
class OwnedHandle;
template <class T>
class SharedHandle;
template <class T>
class WeakHandle;

namespace detail {
// What a handle needs of its pool's type; one static constexpr instance per pool type.
template <class T>
struct HandleOps {
  void (*release)(void* pool, T* object) noexcept;  // returns the object to the pool
  bool shared;                                      // pool used by several threads
};

struct HandleAccess {
  template <class T>
  static OwnedHandle<T> make(T* object, void* pool, const HandleOps<T>* ops) noexcept {
    return OwnedHandle<T>(object, pool, ops);
  }
};

// The shared handles' control block: counts and the object's way home. Lives in memory
// from the fastpool engine (fp_malloc), apart from the slot, so that weak handles may
// outlive the object's stay in its slot.
template <class T>
struct SharedBlock {
  std::atomic<long> strong{1};
  std::atomic<long> weak{1};  // weak handles, plus one while strong > 0
  T* object;
  void* pool;
  const HandleOps<T>* ops;

  bool atomic() const noexcept { return ops->shared; }
  static void increment(std::atomic<long>& n, bool atomic) noexcept {
    if (atomic)
      n.fetch_add(1, std::memory_order_relaxed);
    else
      n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // Returns: true when this was the last count.
  static bool decrement(std::atomic<long>& n, bool atomic) noexcept {
    if (atomic) return n.fetch_sub(1, std::memory_order_acq_rel) == 1;
    long v = n.load(std::memory_order_relaxed) - 1;
    n.store(v, std::memory_order_relaxed);
    return v == 0;
  }
  void drop_weak() noexcept {
    if (decrement(weak, atomic())) {
      this->~SharedBlock();
      fp_free(this);
    }
  }
  void drop_strong() noexcept {
    if (decrement(strong, atomic())) {
      ops->release(pool, object);
      drop_weak();
    }
  }
  // Returns: true when a strong count was taken (the object was still out).
  bool try_add_strong() noexcept {
    if (!atomic()) {
      long v = strong.load(std::memory_order_relaxed);
      if (v == 0) return false;
      strong.store(v + 1, std::memory_order_relaxed);
      return true;
    }
    long v = strong.load(std::memory_order_relaxed);
    while (v != 0)
      if (strong.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel,
                                       std::memory_order_relaxed))
        return true;
    return false;
  }
};
}  // namespace detail

template <class T>
class OwnedHandle {
 public:
  using element_type = T;

  // An empty handle.
  OwnedHandle() noexcept = default;
  OwnedHandle(OwnedHandle&& other) noexcept
      : object_(std::exchange(other.object_, nullptr)), pool_(other.pool_), ops_(other.ops_) {}
  // Effects: returns the held object (if any), then takes other's; other becomes empty.
  OwnedHandle& operator=(OwnedHandle&& other) noexcept {
    if (this != &other) {
      reset();
      object_ = std::exchange(other.object_, nullptr);
      pool_ = other.pool_;
      ops_ = other.ops_;
    }
    return *this;
  }
  OwnedHandle(const OwnedHandle&) = delete;
  OwnedHandle& operator=(const OwnedHandle&) = delete;
  ~OwnedHandle() { reset(); }

  // Effects: returns the object to its pool (on_release, then reset or ~T); empties.
  FP_FAST_PATH void reset() noexcept {
    if (object_ != nullptr) ops_->release(pool_, std::exchange(object_, nullptr));
  }

  // Returns: the object, and empties the handle; the caller must give it back with the
  // pool's destroy().
  [[nodiscard]] T* release() noexcept { return std::exchange(object_, nullptr); }

  // Returns: a SharedHandle owning the object; this handle becomes empty.
  // Throws: std::bad_alloc when the control block cannot be allocated (this handle
  // then keeps the object).
  [[nodiscard]] SharedHandle<T> share() && {
    if (object_ == nullptr) return {};
    void* memory = fp_malloc(sizeof(detail::SharedBlock<T>));
    if (memory == nullptr) throw std::bad_alloc();
    auto* block = ::new (memory) detail::SharedBlock<T>;
    block->object = std::exchange(object_, nullptr);
    block->pool = pool_;
    block->ops = ops_;
    return SharedHandle<T>(block);
  }

  T* get() const noexcept { return object_; }
  T& operator*() const noexcept {
    FP_ASSERT(object_ != nullptr);
    return *object_;
  }
  T* operator->() const noexcept {
    FP_ASSERT(object_ != nullptr);
    return object_;
  }
  explicit operator bool() const noexcept { return object_ != nullptr; }

 private:
  friend struct detail::HandleAccess;
  OwnedHandle(T* object, void* pool, const detail::HandleOps<T>* ops) noexcept
      : object_(object), pool_(pool), ops_(ops) {}

  T* object_ = nullptr;
  void* pool_ = nullptr;
  const detail::HandleOps<T>* ops_ = nullptr;
};

template <class T>
class SharedHandle {
 public:
  using element_type = T;

  SharedHandle() noexcept = default;
  SharedHandle(const SharedHandle& other) noexcept : block_(other.block_) {
    if (block_ != nullptr) block_->increment(block_->strong, block_->atomic());
  }
  SharedHandle(SharedHandle&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  SharedHandle& operator=(SharedHandle other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~SharedHandle() { reset(); }

  // Effects: drops this share; the last share returns the object to its pool.
  void reset() noexcept {
    if (block_ != nullptr) std::exchange(block_, nullptr)->drop_strong();
  }

  T* get() const noexcept { return block_ != nullptr ? block_->object : nullptr; }
  T& operator*() const noexcept {
    FP_ASSERT(block_ != nullptr);
    return *block_->object;
  }
  T* operator->() const noexcept {
    FP_ASSERT(block_ != nullptr);
    return block_->object;
  }
  explicit operator bool() const noexcept { return block_ != nullptr; }
  // Returns: the number of SharedHandles sharing the object (0 when empty); a hint only
  // while other threads copy or drop shares.
  long use_count() const noexcept {
    return block_ != nullptr ? block_->strong.load(std::memory_order_relaxed) : 0;
  }
  // Returns: whether the count is updated atomically (the pool is shared by threads).
  bool atomic() const noexcept { return block_ != nullptr && block_->atomic(); }

  friend bool operator==(const SharedHandle& a, const SharedHandle& b) noexcept {
    return a.get() == b.get();
  }

 private:
  friend class OwnedHandle<T>;
  friend class WeakHandle<T>;
  explicit SharedHandle(detail::SharedBlock<T>* block) noexcept : block_(block) {}

  detail::SharedBlock<T>* block_ = nullptr;
};

template <class T>
class WeakHandle {
 public:
  WeakHandle() noexcept = default;
  WeakHandle(const SharedHandle<T>& shared) noexcept : block_(shared.block_) {
    if (block_ != nullptr) block_->increment(block_->weak, block_->atomic());
  }
  WeakHandle(const WeakHandle& other) noexcept : block_(other.block_) {
    if (block_ != nullptr) block_->increment(block_->weak, block_->atomic());
  }
  WeakHandle(WeakHandle&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  WeakHandle& operator=(WeakHandle other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~WeakHandle() { reset(); }

  void reset() noexcept {
    if (block_ != nullptr) std::exchange(block_, nullptr)->drop_weak();
  }

  // Returns: a SharedHandle to the object if it is still out of the pool, else empty.
  [[nodiscard]] SharedHandle<T> lock() const noexcept {
    if (block_ != nullptr && block_->try_add_strong()) return SharedHandle<T>(block_);
    return {};
  }
  // Returns: true when the object has gone back to its pool (or the handle is empty).
  bool expired() const noexcept {
    return block_ == nullptr || block_->strong.load(std::memory_order_acquire) == 0;
  }

 private:
  detail::SharedBlock<T>* block_ = nullptr;
};

}  // namespace fastpool
