// The Poolable hooks: a T with on_acquire() and/or on_release() members has them called
// when the pool hands an object out and when it takes it back. Detected by concept, so T
// needs no base class and pays nothing when it has no hooks.
//
// Private hooks work when T declares `friend fastpool::pool_access;`. A T whose members
// merely happen to have these names opts out by specialising pool_hooks:
//   template <> struct fastpool::pool_hooks<Socket> { static constexpr bool enabled = false; };
#pragma once

#include <type_traits>

namespace fastpool {

template <class T>
struct pool_hooks {
  static constexpr bool enabled = true;
};

// The one door the pools call the hooks through (befriend it for private hooks).
struct pool_access {
  template <class T>
  static auto acquire(T& t) -> decltype(t.on_acquire()) {
    return t.on_acquire();
  }
  template <class T>
  static auto release(T& t) -> decltype(t.on_release()) {
    return t.on_release();
  }
};

template <class T>
concept HasOnAcquire = pool_hooks<std::remove_cv_t<T>>::enabled && requires(T& t) {
  pool_access::acquire(t);
};
template <class T>
concept HasOnRelease = pool_hooks<std::remove_cv_t<T>>::enabled && requires(T& t) {
  pool_access::release(t);
};
template <class T>
concept Poolable = HasOnAcquire<T> || HasOnRelease<T>;

namespace detail {
template <class T>
inline void call_on_acquire(T& t) {
  if constexpr (HasOnAcquire<T>) pool_access::acquire(t);
}
template <class T>
inline void call_on_release(T& t) noexcept {
  if constexpr (HasOnRelease<T>) pool_access::release(t);
}
}  // namespace detail

}  // namespace fastpool
