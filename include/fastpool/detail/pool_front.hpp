// The client-facing operations every typed pool shares (allocate, try_allocate,
// allocate_batch, allocate_shared, create/destroy, owns), written once over a small
// interface each pool provides (CRTP, no virtual calls):
//
//   void* take_slot();                 // a free slot, or null when exhausted (counted)
//   void  give_slot(void* slot);       // a slot back (its object already taken back)
//   void  undo_take(void* slot);       // a slot taken but never handed out
//   bool  owns_slot(const void* slot) const;
//   void  check_release(void* slot, const T* object);   // checked builds: misuse aborts
//   Objects& objects();                // detail::Objects<T, ...>
//   SlotShape slot_shape() const;      // slot size and link word (detail/poison.hpp)
#pragma once

#include <cstring>
#include <initializer_list>
#include <iterator>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

#include "fastpool/detail/diagnostics.hpp"
#include "fastpool/detail/poison.hpp"
#include "fastpool/detail/pool_registry.hpp"
#include "fastpool/errors.hpp"
#include "fastpool/handles.hpp"
#include "fastpool/poolable.hpp"

namespace fastpool::detail {
FP_MODE_BEGIN

template <class Derived, class T, bool Shared>
class PoolFront {
 public:
  using value_type = T;
  // True for pools that threads share: their SharedHandle counts are atomic.
  static constexpr bool is_shared = Shared;
  // What allocate() returns: an OwnedHandle that knows this pool's type (its release is
  // inlined); it converts to the type-erased OwnedHandle<T>.
  using handle = OwnedHandle<T, Derived>;

  // Returns: a handle to a new object built from args (or the waiting object of a
  // pre-initialised pool), after on_acquire. Throws: pool_exhausted when no slot is
  // free and the pool may not grow; what T's constructor or on_acquire throws.
  template <class... Args>
  [[nodiscard]] FP_FAST_PATH handle allocate(Args&&... args) {
    T* o = make(std::forward<Args>(args)...);
    if (FP_UNLIKELY(o == nullptr)) detail::raise<pool_exhausted>();
    return HandleAccess::make(o, &self());
  }

  // Returns: as allocate(), or an empty handle when the pool is exhausted.
  // Throws: nothing of its own; what T's constructor or on_acquire throws, and what a
  // growth function or the initializer throws while the pool grows, propagate (never a
  // std::terminate: this is not noexcept).
  template <class... Args>
  [[nodiscard]] FP_FAST_PATH handle try_allocate(Args&&... args) {
    T* o = make(std::forward<Args>(args)...);
    if (FP_UNLIKELY(o == nullptr)) return {};
    return HandleAccess::make(o, &self());
  }

  // Returns: one handle per value, objects built from the values in order.
  // Effects: all or nothing: when the pool cannot hold them all, nothing is handed out.
  // Throws: pool_exhausted (counted as one failure); what T's constructor throws.
  template <std::ranges::forward_range Range>
  [[nodiscard]] std::vector<OwnedHandle<T>> allocate_batch(Range&& values) {
    return allocate_range(std::forward<Range>(values));
  }
  [[nodiscard]] std::vector<OwnedHandle<T>> allocate_batch(std::initializer_list<T> values) {
    return allocate_range(values);
  }

  // Returns: a SharedHandle to a new object. Throws: as allocate(); std::bad_alloc when
  // the control block cannot be allocated (the object goes back to the pool).
  template <class... Args>
  [[nodiscard]] SharedHandle<T> allocate_shared(Args&&... args) {
    return allocate(std::forward<Args>(args)...).share();
  }

  // Raw use, for code that manages lifetime itself.
  // Returns: a new object, to be given back with destroy(). Throws: as allocate().
  template <class... Args>
  [[nodiscard]] T* create(Args&&... args) {
    T* o = make(std::forward<Args>(args)...);
    if (FP_UNLIKELY(o == nullptr)) detail::raise<pool_exhausted>();
    return o;
  }
  // Returns: a new object, or null when the pool is exhausted.
  template <class... Args>
  [[nodiscard]] T* try_create(Args&&... args) {
    return make(std::forward<Args>(args)...);
  }

  // Effects: returns the object to the pool (on_release, then reset or ~T); null is a
  // no-op. REQUIRES: `object` came from this pool's create() (or a released handle) and
  // was not destroyed since. Debug and FASTPOOL_SECURE builds abort with a message naming
  // the pool type and the address when it did not, or on a double destroy.
  void destroy(T* object) noexcept {
    if (object != nullptr) release_object(object);
  }

  // Returns: true when no slot is free at the current capacity (a growing pool may still
  // grow on the next allocate).
  bool is_full() const noexcept { return self().available() == 0; }

  // Returns: true when `object` is a slot of this pool.
  bool owns(const T* object) const noexcept {
    return object != nullptr && self().owns_slot(self().objects().slot(object));
  }

 protected:
  friend struct ::fastpool::detail::HandleAccess;
  // Every pool's destructor calls this first (the statistics report may read the pool
  // until then).
  void retire_statistics() noexcept { registration_.retire(); }

  FP_FAST_PATH void release_object(T* object) noexcept {
    auto& objects = self().objects();
    void* slot = objects.slot(object);
    if constexpr (kChecked) self().check_release(slot, object);
    objects.take_back(object);
    if constexpr (kChecked)
      if (!objects.pre_initialized())
        std::memset(static_cast<void*>(object), kReleasedByte, sizeof(T));
    close_slot(slot);
    self().give_slot(slot);
  }

 private:
  [[no_unique_address]] PoolRegistration<Derived> registration_{static_cast<const Derived*>(this)};

  template <class Range>
  std::vector<OwnedHandle<T>> allocate_range(Range&& values) {
    auto n = static_cast<std::size_t>(std::ranges::distance(values));
    std::vector<OwnedHandle<T>> out;
    out.reserve(n);
    std::vector<void*> slots;
    slots.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      void* slot = self().take_slot();
      if (slot == nullptr) {
        for (void* s : slots) undo(s);
        detail::raise<pool_exhausted>();
      }
      open_slot(slot);
      slots.push_back(slot);
    }
    std::size_t built = 0;
    FP_TRY {
      for (auto&& value : values) {
        T* o = self().objects().hand_out(slots[built], std::forward<decltype(value)>(value));
        ++built;
        out.push_back(HandleAccess::make(o, &self()));
      }
    }
    FP_CATCH_ALL {
      for (std::size_t i = built; i < n; ++i) undo(slots[i]);
      FP_RETHROW;  // `out` returns the objects already built
    }
    return out;
  }

  Derived& self() noexcept { return static_cast<Derived&>(*this); }
  const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }

  template <class... Args>
  FP_FAST_PATH T* make(Args&&... args) {
    void* slot = self().take_slot();
    if (FP_UNLIKELY(slot == nullptr)) return nullptr;
    open_slot(slot);
    if constexpr (std::is_nothrow_constructible_v<T, Args...> && !HasOnAcquire<T>) {
      return self().objects().hand_out(slot, std::forward<Args>(args)...);
    } else {
      FP_TRY {
        return self().objects().hand_out(slot, std::forward<Args>(args)...);
      }
      FP_CATCH_ALL {
        undo(slot);
        FP_RETHROW;
      }
    }
  }

  // A slot leaving the pool, and one coming back (ASan poisoning, detail/poison.hpp).
  FP_FAST_PATH void open_slot(void* slot) noexcept {
    if constexpr (kAsan) unpoison_slots(slot, 1, self().slot_shape());
  }
  FP_FAST_PATH void close_slot(void* slot) noexcept {
    if constexpr (kAsan) poison_slots(slot, 1, self().slot_shape());
  }
  // A slot taken and never handed out goes back.
  void undo(void* slot) noexcept {
    close_slot(slot);
    self().undo_take(slot);
  }
};

FP_MODE_END
}  // namespace fastpool::detail
