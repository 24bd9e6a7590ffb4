// The typed half of a slot: where T sits in its slot, and what happens to it on hand-out
// and return (construct/destroy, or for pre-initialised pools assign/reset), plus the
// pool's raw memory, which comes from the fastpool engine (fp_aligned_alloc).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <new>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "fastpool/config.hpp"
#include "fastpool/detail/diagnostics.hpp"
#include "fastpool/detail/poison.hpp"
#include "fastpool/engine/platform.hpp"
#include "fastpool/fastpool.h"
#include "fastpool/poolable.hpp"

namespace fastpool::detail {

constexpr std::size_t round_up(std::size_t n, std::size_t align) noexcept {
  return (n + align - 1) & ~(align - 1);
}

// Returns: `size` bytes aligned to `align`, or null.
// Pool storage: fastpool's engine, or under ASan the C allocator ASan watches
// (detail/poison.hpp).
inline void* try_allocate_bytes(std::size_t align, std::size_t size) noexcept {
  align = std::max<std::size_t>(align, 16);
  if (size > ~std::size_t{0} - align) return nullptr;  // no wrap in the rounding
  return kAsan ? std::aligned_alloc(align, round_up(size, align))
               : fp_aligned_alloc(align, round_up(size, 16));
}
// Returns: as try_allocate_bytes, never null. Throws: bad_alloc.
inline void* allocate_bytes(std::size_t align, std::size_t size) {
  void* p = try_allocate_bytes(align, size);
  if (p == nullptr) detail::raise<std::bad_alloc>();
  return p;
}
inline void release_bytes(void* p) noexcept {
  if constexpr (kAsan)
    std::free(p);
  else
    fp_free(p);
}

FP_MODE_BEGIN
// A pool over caller storage: `used` bytes of its own (index, slots) from the start, then
// the live bits of `slots` slots at the next multiple of 8.
struct CallerStorage {
  static constexpr std::size_t required(std::size_t used, std::size_t slots) noexcept {
    return used + 7 + LiveBits::bytes(slots);
  }
  // Returns: where the live bits go. Throws: config_error when storage is too small for
  // required(used, slots) or not aligned to `align`.
  static void* check(std::span<std::byte> storage, std::size_t used, std::size_t slots,
                     std::size_t align) {
    if (storage.size() < required(used, slots))
      detail::raise<config_error>("storage", "too small for the capacity (see required_bytes)");
    auto at = reinterpret_cast<std::uintptr_t>(storage.data());
    if (at % align != 0)
      detail::raise<config_error>("storage", "not aligned to the slots' alignment");
    return reinterpret_cast<void*>((at + used + 7) & ~std::uintptr_t{7});
  }
};
FP_MODE_END

struct SlotLayout {
  std::size_t align = 0;        // every slot starts at a multiple of this; T at its start
  std::size_t link_offset = 0;  // the engine's link word in a free slot (links_in_slot)
  std::size_t slot_size = 0;    // a multiple of align
};

// links_in_slot: the engine writes a link word into free slots.
// keep_objects: objects live in free slots (pre-initialised pools, or a lock-free pool
// whose racing pops may read a link while the object is being built), so the link needs
// a word of its own, behind the object: [T | padding | link].
template <class T>
constexpr SlotLayout make_layout(std::size_t config_alignment, bool links_in_slot,
                                 bool keep_objects) {
  SlotLayout l;
  l.align = std::max(alignof(T), config_alignment);
  if (!links_in_slot) {
    l.slot_size = round_up(sizeof(T), l.align);
    return l;
  }
  l.align = std::max(l.align, alignof(void*));
  l.link_offset = keep_objects ? round_up(sizeof(T), alignof(void*)) : 0;
  l.slot_size = round_up(std::max(l.link_offset + sizeof(void*), sizeof(T)), l.align);
  return l;
}

// T starts at its slot, so the fast path converts between the two with no arithmetic.
template <class T>
class Objects {
 public:
  Objects() = default;
  explicit Objects(const PoolConfig<T>& config)
      : pre_initialized_(config.pre_initialize()),
        reset_on_release_(config.pre_initialize() && config.reset()),
        initializer_(config.initializer()),
        reset_(config.reset()) {}

  static T* object(void* slot) noexcept { return std::launder(static_cast<T*>(slot)); }
  static void* slot(const T* object) noexcept {
    return const_cast<void*>(static_cast<const void*>(object));
  }
  bool pre_initialized() const noexcept { return pre_initialized_; }

  // Effects: builds the waiting object of a new slot of a pre-initialised pool.
  // Throws: what the initializer throws.
  void prepare(void* slot) { ::new (static_cast<void*>(object(slot))) T(initializer_()); }
  // Effects: destroys the waiting object of a pre-initialised pool's slot.
  void dispose(void* slot) noexcept { object(slot)->~T(); }

  // Effects: makes the object of `slot` ready for a client: constructs it from args
  // (lazy), or leaves the waiting object / assigns T(args...) to it (pre-initialised);
  // then calls on_acquire. Throws: what T's constructor or on_acquire throws; the slot
  // then holds no live object (lazy) or its waiting object (pre-initialised).
  template <class... Args>
  FP_FAST_PATH T* hand_out(void* slot, Args&&... args) {
    T* o = object(slot);
    if constexpr (sizeof...(Args) > 0 && std::is_trivially_copyable_v<T>) {
      // Building anew over a trivially copyable object is what assigning T(args...)
      // would do, so lazy and pre-initialised pools share this branch-free path.
      ::new (static_cast<void*>(o)) T(std::forward<Args>(args)...);
    } else if (FP_UNLIKELY(pre_initialized_)) {
      if constexpr (sizeof...(Args) > 0) assign(*o, std::forward<Args>(args)...);
    } else if constexpr (std::is_constructible_v<T, Args...>) {
      ::new (static_cast<void*>(o)) T(std::forward<Args>(args)...);
    } else {
      // allocate() of a T with no default constructor: only a pre-initialised pool,
      // which hands out its waiting object, can serve it.
      static_assert(sizeof...(Args) == 0, "T cannot be constructed from these arguments");
      engine::fatal("allocate(): T has no default constructor and the pool is not pre-initialised",
                    slot);
    }
    if constexpr (HasOnAcquire<T>) {
      FP_TRY {
        pool_access::acquire(*o);
      }
      FP_CATCH_ALL {
        if (!pre_initialized_) o->~T();
        FP_RETHROW;
      }
    }
    return o;
  }

  // Effects: on_release, then reset (pre-initialised) or ~T (lazy).
  // REQUIRES: on_release, reset and ~T do not throw.
  FP_FAST_PATH void take_back(T* o) noexcept {
    call_on_release(*o);
    if (FP_UNLIKELY(reset_on_release_)) {
      reset_(*o);
    } else if constexpr (!std::is_trivially_destructible_v<T>) {
      if (!pre_initialized_) o->~T();
    }
  }

 private:
  // The waiting object of a pre-initialised slot becomes T(args...): assigned, or for a T
  // that cannot be assigned, rebuilt in place (when that constructor throws, the slot
  // gets a fresh waiting object from the initializer before the exception goes on).
  template <class... Args>
  void assign(T& o, Args&&... args) {
    if constexpr (std::is_move_assignable_v<T>) {
      o = T(std::forward<Args>(args)...);
    } else {
      o.~T();
      FP_TRY {
        ::new (static_cast<void*>(&o)) T(std::forward<Args>(args)...);
      }
      FP_CATCH_ALL {
        prepare(&o);
        FP_RETHROW;
      }
    }
  }

  bool pre_initialized_ = false;
  bool reset_on_release_ = false;  // pre-initialised with a reset function
  typename PoolConfig<T>::Initializer initializer_;
  typename PoolConfig<T>::Reset reset_;
};

}  // namespace fastpool::detail
