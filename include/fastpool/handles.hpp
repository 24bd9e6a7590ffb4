// RAII handles to pooled objects.
//
//   OwnedHandle<T, Pool>  sole owner (like unique_ptr); move-only; returns the object on
//                    reset. What `pool.allocate()` returns (alias `Pool::handle`): it
//                    knows the pool's type, so its release is a direct, inlinable call
//                    (an allocate+release pair compiles to the pool's two fast paths).
//   OwnedHandle<T>   the same with the pool's type erased (Pool = void): any pool's
//                    handle converts to it; it releases through a constant table of the
//                    pool type's operations (one indirect call).
//   SharedHandle<T>  shared owner (like shared_ptr); the last copy returns the object.
//                    Its count is atomic exactly when the pool is shared between threads.
//   WeakHandle<T>    observes a SharedHandle's object without keeping it out of the pool.
//
// REQUIRES (all handles): the pool outlives every handle to its objects.
#pragma once

#include <atomic>
#include <compare>
#include <cstddef>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

#include "fastpool/engine/platform.hpp"
#include "fastpool/errors.hpp"
#include "fastpool/fastpool.h"

namespace fastpool {

template <class T, class Pool = void>
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

// The pools' door for handles: release_object is not public API.
struct HandleAccess {
  template <class T, class Pool>
  static OwnedHandle<T, Pool> make(T* object, Pool* pool) noexcept {
    return OwnedHandle<T, Pool>(object, pool);
  }
  template <class Pool, class T>
  FP_FAST_PATH static void release(Pool* pool, T* object) noexcept {
    pool->release_object(object);
  }
  // `object` is the pool's U seen as a T (a base, or const): cast back before it goes home.
  template <class Pool, class U, class T>
  static void release_erased(void* pool, T* object) noexcept {
    release(static_cast<Pool*>(pool), static_cast<U*>(const_cast<std::remove_const_t<T>*>(object)));
  }
};

// One operations table per pool type (and per type its objects are seen as), for handles
// whose pool type is erased.
template <class Pool, class U, class T = U>
inline constexpr HandleOps<T> kHandleOps{&HandleAccess::release_erased<Pool, U, T>,
                                         Pool::is_shared};

// A handle to a pool's U may be seen as a handle to T when a U* is a T* and the T* can
// be cast back statically: T is U, const U, or a non-virtual base of U (const or not).
template <class U, class T>
concept HandleConvertible = std::is_convertible_v<U*, T*> && requires(std::remove_const_t<T>* t) {
  static_cast<U*>(t);
};

// Where a handle's object goes home. Typed: the pool itself (a direct call). Erased: the
// pool's address and its type's table (an indirect call).
template <class T, class Pool>
struct HandleHome {
  Pool* pool = nullptr;
  FP_FAST_PATH void release(T* object) const noexcept { HandleAccess::release(pool, object); }
  void* erased_pool() const noexcept { return static_cast<void*>(pool); }
  template <class As = T>
  const HandleOps<As>* ops() const noexcept {
    return &kHandleOps<Pool, T, As>;
  }
};
template <class T>
struct HandleHome<T, void> {
  void* pool = nullptr;
  const HandleOps<T>* table = nullptr;
  FP_FAST_PATH void release(T* object) const noexcept { table->release(pool, object); }
  void* erased_pool() const noexcept { return pool; }
  template <class As = T>
  const HandleOps<As>* ops() const noexcept {
    static_assert(std::is_same_v<As, T>, "an erased handle converts to its own T only");
    return table;
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

template <class T, class Pool>
class OwnedHandle {
 public:
  using element_type = T;
  using pool_type = Pool;  // void: erased

  // An empty handle.
  OwnedHandle() noexcept = default;
  OwnedHandle(OwnedHandle&& other) noexcept
      : object_(std::exchange(other.object_, nullptr)), home_(other.home_) {}
  // Effects: takes a pool-typed handle's object, erasing the pool's type; other becomes
  // empty. Implicit, so `OwnedHandle<T> h = pool.allocate();` works for every pool, and
  // so does `OwnedHandle<const Base> h = derived_pool.allocate();` (see HandleConvertible).
  template <class U, class P>
  requires(std::is_void_v<Pool> && !std::is_void_v<P> && detail::HandleConvertible<U, T>)
      OwnedHandle(OwnedHandle<U, P>&& other)
  noexcept
      : object_(std::exchange(other.object_, nullptr)),
        home_{other.home_.erased_pool(), other.home_.template ops<T>()} {}
  // Effects: returns the held object (if any), then takes other's; other becomes empty.
  OwnedHandle& operator=(OwnedHandle&& other) noexcept {
    if (this != &other) {
      reset();
      object_ = std::exchange(other.object_, nullptr);
      home_ = other.home_;
    }
    return *this;
  }
  template <class U, class P>
  requires(std::is_void_v<Pool> && !std::is_void_v<P> &&
           detail::HandleConvertible<U, T>) OwnedHandle&
  operator=(OwnedHandle<U, P>&& other) noexcept {
    return *this = OwnedHandle(std::move(other));
  }
  OwnedHandle(const OwnedHandle&) = delete;
  OwnedHandle& operator=(const OwnedHandle&) = delete;
  FP_FAST_PATH ~OwnedHandle() { reset(); }

  // Effects: returns the object to its pool (on_release, then reset or ~T); empties.
  FP_FAST_PATH void reset() noexcept {
    if (object_ != nullptr) home_.release(std::exchange(object_, nullptr));
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
    if (memory == nullptr) detail::raise<std::bad_alloc>();
    auto* block = ::new (memory) detail::SharedBlock<T>;
    block->object = std::exchange(object_, nullptr);
    block->pool = home_.erased_pool();
    block->ops = home_.ops();
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

  // Compared (and hashed) by the object's address, as unique_ptr is.
  friend bool operator==(const OwnedHandle& h, std::nullptr_t) noexcept {
    return h.object_ == nullptr;
  }
  template <class U, class Q>
  friend bool operator==(const OwnedHandle& a, const OwnedHandle<U, Q>& b) noexcept {
    return a.get() == b.get();
  }
  template <class U, class Q>
  friend std::strong_ordering operator<=>(const OwnedHandle& a,
                                          const OwnedHandle<U, Q>& b) noexcept {
    return std::compare_three_way{}(a.get(), b.get());
  }

 private:
  friend struct detail::HandleAccess;
  template <class, class>
  friend class OwnedHandle;
  OwnedHandle(T* object, Pool* pool) noexcept : object_(object), home_{pool} {}

  T* object_ = nullptr;
  detail::HandleHome<T, Pool> home_;
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
  // Effects: takes an OwnedHandle's object (its share()), as shared_ptr takes a
  // unique_ptr. Throws: std::bad_alloc (the OwnedHandle then keeps the object).
  template <class P>
  SharedHandle(OwnedHandle<T, P>&& owned) : SharedHandle(std::move(owned).share()) {}
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
  friend bool operator==(const SharedHandle& h, std::nullptr_t) noexcept {
    return h.block_ == nullptr;
  }
  friend std::strong_ordering operator<=>(const SharedHandle& a, const SharedHandle& b) noexcept {
    return std::compare_three_way{}(a.get(), b.get());
  }

 private:
  template <class, class>
  friend class OwnedHandle;
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

template <class T, class Pool>
struct std::hash<fastpool::OwnedHandle<T, Pool>> {
  std::size_t operator()(const fastpool::OwnedHandle<T, Pool>& h) const noexcept {
    return std::hash<T*>{}(h.get());
  }
};
template <class T>
struct std::hash<fastpool::SharedHandle<T>> {
  std::size_t operator()(const fastpool::SharedHandle<T>& h) const noexcept {
    return std::hash<T*>{}(h.get());
  }
};
