// Every replaceable global operator new/delete, over the shared allocation API.
// The throw-or-null difference is a compile-time policy on one shared failure path.
#include <new>

#include "api/front.hpp"

// The preload library does not load libstdc++ (a C program would pay about 1.2 MiB of
// RSS for it): its references into the C++ runtime are weak and resolve to the program's
// own libstdc++, which any program that calls operator new has loaded. Only the failure
// paths use them, and they check.
#ifdef FASTPOOL_WEAK_CXX_RUNTIME
asm(".weak _ZSt15get_new_handlerv\n.weak _ZTISt9bad_alloc\n.weak _ZTVSt9bad_alloc\n"
    ".weak _ZTVSt9exception\n.weak _ZNSt9bad_allocD1Ev\n"
    ".weak __cxa_allocate_exception\n.weak __cxa_throw\n"
    ".weak __cxa_begin_catch\n.weak __cxa_end_catch\n.weak __gxx_personality_v0");
extern "C" __attribute__((weak)) void* __cxa_allocate_exception(std::size_t) noexcept;
inline bool cxx_runtime_present() noexcept {
  return &__cxa_allocate_exception != nullptr;
}
#else
inline bool cxx_runtime_present() noexcept {
  return true;
}
#endif

namespace {

enum class OnFailure { throw_bad_alloc, return_null };

// Out of memory: run the new-handler until it gives up, retrying after each call.
using fastpool::AllocKind;

template <OnFailure Policy>
FP_COLD void* new_failed(std::size_t size, std::size_t alignment, AllocKind kind) {
  if (!cxx_runtime_present()) fastpool::engine::fatal("operator new: out of memory");
  for (;;) {
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) {
      if constexpr (Policy == OnFailure::throw_bad_alloc) throw std::bad_alloc();
      return nullptr;
    }
    if constexpr (Policy == OnFailure::throw_bad_alloc) {
      handler();
    } else {
      try {
        handler();
      } catch (...) {
        return nullptr;
      }
    }
    void* p = alignment == 0 ? fastpool::front_malloc(size, kind)
                             : fastpool::front_aligned(alignment, size, kind);
    if (p != nullptr) return p;
  }
}

template <OnFailure Policy, AllocKind Kind>
FP_FAST_PATH void* new_impl(std::size_t size) {
  void* p = fastpool::front_malloc(size, Kind);
  if (FP_LIKELY(p != nullptr)) return p;
  return new_failed<Policy>(size, 0, Kind);
}

template <OnFailure Policy, AllocKind Kind>
void* new_aligned_impl(std::size_t size, std::align_val_t al) {
  auto alignment = static_cast<std::size_t>(al);
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    if constexpr (Policy == OnFailure::throw_bad_alloc) {
      if (!cxx_runtime_present()) fastpool::engine::fatal("operator new: bad alignment");
      throw std::bad_alloc();
    }
    return nullptr;
  }
  void* p = fastpool::front_aligned(alignment, size, Kind);
  if (FP_LIKELY(p != nullptr)) return p;
  return new_failed<Policy>(size, alignment, Kind);
}

constexpr auto kThrow = OnFailure::throw_bad_alloc;
constexpr auto kNull = OnFailure::return_null;
constexpr auto kOne = AllocKind::new_scalar;
constexpr auto kArray = AllocKind::new_array;

}  // namespace

// clang-format off
FP_EXPORT void* operator new(std::size_t n) { return new_impl<kThrow, kOne>(n); }
FP_EXPORT void* operator new[](std::size_t n) { return new_impl<kThrow, kArray>(n); }
FP_EXPORT void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return new_impl<kNull, kOne>(n); }
FP_EXPORT void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return new_impl<kNull, kArray>(n); }
FP_EXPORT void* operator new(std::size_t n, std::align_val_t a) { return new_aligned_impl<kThrow, kOne>(n, a); }
FP_EXPORT void* operator new[](std::size_t n, std::align_val_t a) { return new_aligned_impl<kThrow, kArray>(n, a); }
FP_EXPORT void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return new_aligned_impl<kNull, kOne>(n, a); }
FP_EXPORT void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return new_aligned_impl<kNull, kArray>(n, a); }

FP_EXPORT void operator delete(void* p) noexcept { fastpool::front_free(p, kOne); }
FP_EXPORT void operator delete[](void* p) noexcept { fastpool::front_free(p, kArray); }
FP_EXPORT void operator delete(void* p, std::size_t n) noexcept { fastpool::front_free(p, kOne, n); }
FP_EXPORT void operator delete[](void* p, std::size_t n) noexcept { fastpool::front_free(p, kArray, n); }
FP_EXPORT void operator delete(void* p, const std::nothrow_t&) noexcept { fastpool::front_free(p, kOne); }
FP_EXPORT void operator delete[](void* p, const std::nothrow_t&) noexcept { fastpool::front_free(p, kArray); }
FP_EXPORT void operator delete(void* p, std::align_val_t) noexcept { fastpool::front_free(p, kOne); }
FP_EXPORT void operator delete[](void* p, std::align_val_t) noexcept { fastpool::front_free(p, kArray); }
FP_EXPORT void operator delete(void* p, std::size_t n, std::align_val_t) noexcept { fastpool::front_free(p, kOne, n); }
FP_EXPORT void operator delete[](void* p, std::size_t n, std::align_val_t) noexcept { fastpool::front_free(p, kArray, n); }
FP_EXPORT void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { fastpool::front_free(p, kOne); }
FP_EXPORT void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { fastpool::front_free(p, kArray); }
// clang-format on
