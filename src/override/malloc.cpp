// The C allocation API (and glibc's __libc_* aliases, so no fastpool pointer can reach
// glibc's heap), over the shared allocation API. Linked into fastpool::override (with
// FASTPOOL_OVERRIDE_MALLOC) and into libfastpool_preload.so.
#include <errno.h>
#include <malloc.h>
#include <unistd.h>

#include <bit>
#include <cstdint>

#include "api/front.hpp"
#include "api/stats.hpp"
#include "fastpool/fastpool.h"
#include "os/os.hpp"

using namespace fastpool;

namespace {

bool valid_alignment(std::size_t a) noexcept {
  return a != 0 && (a & (a - 1)) == 0;
}

// memalign and aligned_alloc as glibc 2.36 has them: an alignment that is not a power
// of two is rounded up to one (0 and 1 mean none); only one above 2^63, which cannot be
// rounded, is EINVAL.
void* glibc_aligned(std::size_t alignment, std::size_t size) noexcept {
  if (alignment > (SIZE_MAX >> 1) + 1) {
    errno = EINVAL;
    return nullptr;
  }
  if (alignment <= 16) return front_malloc(size);
  return front_aligned(std::bit_ceil(alignment), size);
}

void* page_aligned(std::size_t size) noexcept {
  return front_aligned(os::page_size(), size);
}

void* pvalloc_impl(std::size_t size) noexcept {
  std::size_t ps = os::page_size();
  std::size_t rounded;
  if (__builtin_add_overflow(size, ps - 1, &rounded)) {
    errno = ENOMEM;
    return nullptr;
  }
  rounded &= ~(ps - 1);
  return page_aligned(rounded == 0 ? ps : rounded);
}

void* reallocarray_impl(void* p, std::size_t n, std::size_t size) noexcept {
  std::size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return front_realloc(p, total);
}

int posix_memalign_impl(void** out, std::size_t alignment, std::size_t size) noexcept {
  if (!valid_alignment(alignment) || alignment % sizeof(void*) != 0) return EINVAL;
  int saved = errno;
  void* p = front_aligned(alignment, size);
  if (p == nullptr) {
    errno = saved;
    return ENOMEM;
  }
  *out = p;
  return 0;
}

template <class Info>
Info info() noexcept {
  MallInfo m = mallinfo_figures();
  Info mi{};
  using F = decltype(mi.arena);
  mi.arena = static_cast<F>(m.arena);
  mi.ordblks = static_cast<F>(m.ordblks);
  mi.hblks = static_cast<F>(m.hblks);
  mi.hblkhd = static_cast<F>(m.hblkhd);
  mi.uordblks = static_cast<F>(m.uordblks);
  mi.fordblks = static_cast<F>(m.fordblks);
  mi.keepcost = static_cast<F>(m.keepcost);
  return mi;
}

}  // namespace

extern "C" {

// clang-format off
FP_EXPORT void* malloc(size_t size) noexcept { return front_malloc(size); }
FP_EXPORT void free(void* p) noexcept { front_free(p); }
FP_EXPORT void* calloc(size_t n, size_t size) noexcept { return front_calloc(n, size); }
FP_EXPORT void* realloc(void* p, size_t size) noexcept { return front_realloc(p, size); }
FP_EXPORT void* reallocarray(void* p, size_t n, size_t size) noexcept { return reallocarray_impl(p, n, size); }
FP_EXPORT int posix_memalign(void** out, size_t alignment, size_t size) noexcept { return posix_memalign_impl(out, alignment, size); }
FP_EXPORT void* aligned_alloc(size_t alignment, size_t size) noexcept { return glibc_aligned(alignment, size); }
FP_EXPORT void* memalign(size_t alignment, size_t size) noexcept { return glibc_aligned(alignment, size); }
FP_EXPORT void* valloc(size_t size) noexcept { return page_aligned(size); }
FP_EXPORT void* pvalloc(size_t size) noexcept { return pvalloc_impl(size); }
FP_EXPORT size_t malloc_usable_size(void* p) noexcept { return front_usable_size(p); }
FP_EXPORT void cfree(void* p) noexcept { front_free(p); }

// Accepted for compatibility; fastpool answers with its own state.
FP_EXPORT int malloc_trim(size_t) noexcept { return collect_all() ? 1 : 0; }
FP_EXPORT int mallopt(int param, int value) noexcept { return set_malloc_option(param, value); }
FP_EXPORT void malloc_stats(void) noexcept { print_stats(); }
FP_EXPORT int malloc_info(int options, FILE* fp) noexcept { return write_malloc_info(options, fp); }
FP_EXPORT struct mallinfo2 mallinfo2(void) noexcept { return info<struct mallinfo2>(); }
FP_EXPORT struct mallinfo mallinfo(void) noexcept { return info<struct mallinfo>(); }

FP_EXPORT void* __libc_malloc(size_t size) noexcept { return front_malloc(size); }
FP_EXPORT void __libc_free(void* p) noexcept { front_free(p); }
FP_EXPORT void* __libc_calloc(size_t n, size_t size) noexcept { return front_calloc(n, size); }
FP_EXPORT void* __libc_realloc(void* p, size_t size) noexcept { return front_realloc(p, size); }
FP_EXPORT void* __libc_memalign(size_t alignment, size_t size) noexcept { return glibc_aligned(alignment, size); }
FP_EXPORT void* __libc_valloc(size_t size) noexcept { return page_aligned(size); }
FP_EXPORT void* __libc_pvalloc(size_t size) noexcept { return pvalloc_impl(size); }
// clang-format on

}  // extern "C"
