// fastpool::Allocator<T>: a standard allocator served by the fastpool engine (fp_malloc),
// for any std container, without replacing the global operator new. Stateless and
// always equal, so containers swap and move their memory freely.
#pragma once

#include <cstddef>
#include <limits>
#include <new>
#include <type_traits>

#include "fastpool/errors.hpp"
#include "fastpool/fastpool.h"

namespace fastpool {

template <class T>
class Allocator {
 public:
  using value_type = T;
  using is_always_equal = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;

  Allocator() noexcept = default;
  template <class U>
  Allocator(const Allocator<U>&) noexcept {}

  // Returns: storage for n objects of T, aligned for T (over-aligned T included).
  // Throws: std::bad_array_new_length when n * sizeof(T) overflows; std::bad_alloc.
  [[nodiscard]] T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T))
      detail::raise<std::bad_array_new_length>();
    void* p = alignof(T) > alignof(std::max_align_t) ? fp_aligned_alloc(alignof(T), n * sizeof(T))
                                                     : fp_malloc(n * sizeof(T));
    if (p == nullptr) detail::raise<std::bad_alloc>();
    return static_cast<T*>(p);
  }
  // REQUIRES: p came from allocate(n) of an Allocator (of any type: they are all equal).
  void deallocate(T* p, std::size_t) noexcept { fp_free(p); }

  template <class U>
  friend bool operator==(const Allocator&, const Allocator<U>&) noexcept {
    return true;
  }
};

}  // namespace fastpool
