// Every replaceable global operator new/delete, over the shared allocation API.
// The throw-or-null difference is a compile-time policy on one shared failure path.
#include <new>

#include "api/alloc.hpp"

// The preload library does not load libstdc++ (a C program would pay about 1.2 MiB of
// RSS for it): its references into the C++ runtime are weak and resolve to the program's
// own libstdc++, which any program that calls operator new has loaded. Only the failure
// paths use them, and they check.
#ifdef FASTPOOL_WEAK_CXX_RUNTIME
asm(".weak _ZSt15get_new_handlerv\n.weak _ZTISt9bad_alloc\n.weak _ZTVSt9bad_alloc\n"
    ".weak _ZNSt9bad_allocD1Ev\n.weak __cxa_allocate_exception\n.weak __cxa_throw\n"
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
template <OnFailure Policy>
FP_COLD void* new_failed(std::size_t size, std::size_t alignment) {
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
    void* p = alignment == 0 ? fastpool::malloc_fast(size)
                             : fastpool::aligned_alloc_checked(alignment, size);
    if (p != nullptr) return p;
  }
}

template <OnFailure Policy>
FP_FAST_PATH void* new_impl(std::size_t size) {
  void* p = fastpool::malloc_fast(size);
  if (FP_LIKELY(p != nullptr)) return p;
  return new_failed<Policy>(size, 0);
}

template <OnFailure Policy>
void* new_aligned_impl(std::size_t size, std::align_val_t al) {
  auto alignment = static_cast<std::size_t>(al);
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    if constexpr (Policy == OnFailure::throw_bad_alloc) {
      if (!cxx_runtime_present()) fastpool::engine::fatal("operator new: bad alignment");
      throw std::bad_alloc();
    }
    return nullptr;
  }
  void* p = fastpool::aligned_alloc_fast(alignment, size);
  if (FP_LIKELY(p != nullptr)) return p;
  return new_failed<Policy>(size, alignment);
}

constexpr auto kThrow = OnFailure::throw_bad_alloc;
constexpr auto kNull = OnFailure::return_null;

}  // namespace

// clang-format off
FP_EXPORT void* operator new(std::size_t n) { return new_impl<kThrow>(n); }
FP_EXPORT void* operator new[](std::size_t n) { return new_impl<kThrow>(n); }
FP_EXPORT void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return new_impl<kNull>(n); }
FP_EXPORT void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return new_impl<kNull>(n); }
FP_EXPORT void* operator new(std::size_t n, std::align_val_t a) { return new_aligned_impl<kThrow>(n, a); }
FP_EXPORT void* operator new[](std::size_t n, std::align_val_t a) { return new_aligned_impl<kThrow>(n, a); }
FP_EXPORT void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return new_aligned_impl<kNull>(n, a); }
FP_EXPORT void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return new_aligned_impl<kNull>(n, a); }

FP_EXPORT void operator delete(void* p) noexcept { fastpool::free_fast(p); }
FP_EXPORT void operator delete[](void* p) noexcept { fastpool::free_fast(p); }
FP_EXPORT void operator delete(void* p, std::size_t) noexcept { fastpool::free_fast(p); }
FP_EXPORT void operator delete[](void* p, std::size_t) noexcept { fastpool::free_fast(p); }
FP_EXPORT void operator delete(void* p, const std::nothrow_t&) noexcept { fastpool::free_fast(p); }
FP_EXPORT void operator delete[](void* p, const std::nothrow_t&) noexcept { fastpool::free_fast(p); }
FP_EXPORT void operator delete(void* p, std::align_val_t) noexcept { fastpool::free_fast(p); }
FP_EXPORT void operator delete[](void* p, std::align_val_t) noexcept { fastpool::free_fast(p); }
FP_EXPORT void operator delete(void* p, std::size_t, std::align_val_t) noexcept { fastpool::free_fast(p); }
FP_EXPORT void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { fastpool::free_fast(p); }
FP_EXPORT void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { fastpool::free_fast(p); }
FP_EXPORT void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { fastpool::free_fast(p); }
// clang-format on
