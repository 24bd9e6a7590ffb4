// The Poolable hooks: a T with on_acquire() and/or on_release() members has them called
// when the pool hands an object out and when it takes it back. Detected by concept, so T
// needs no base class and pays nothing when it has no hooks.
#pragma once

namespace fastpool {

template <class T>
concept HasOnAcquire = requires(T& t) {
  t.on_acquire();
};
template <class T>
concept HasOnRelease = requires(T& t) {
  t.on_release();
};
template <class T>
concept Poolable = HasOnAcquire<T> || HasOnRelease<T>;

namespace detail {
template <class T>
inline void call_on_acquire(T& t) {
  if constexpr (HasOnAcquire<T>) t.on_acquire();
}
template <class T>
inline void call_on_release(T& t) noexcept {
  if constexpr (HasOnRelease<T>) t.on_release();
}
}  // namespace detail

}  // namespace fastpool
