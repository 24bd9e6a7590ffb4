// Compiler annotations shared by every layer. Hot functions are FP_FAST_PATH (always
// inlined), the code they hand off to is FP_SLOW_PATH (never inlined), so `grep` shows
// the paths. FP_ASSERT is an internal invariant check that compiles out with NDEBUG.
#pragma once

#include <cstddef>
#include <cstdint>

#define FP_FAST_PATH inline __attribute__((always_inline))
#define FP_SLOW_PATH __attribute__((noinline))
#define FP_COLD __attribute__((noinline, cold))
// On extern declarations of allocator-internal data: a PC-relative access, not via the GOT.
#define FP_INTERNAL __attribute__((visibility("hidden")))
// On what the headers' inline code calls in the library: exported from libfastpool.so.
#define FP_PUBLIC __attribute__((visibility("default")))
#define FP_LIKELY(x) __builtin_expect(!!(x), 1)
#define FP_UNLIKELY(x) __builtin_expect(!!(x), 0)

namespace fastpool::engine {
// Reports a broken internal invariant or client misuse and aborts. Never allocates.
[[noreturn]] FP_PUBLIC void fatal(const char* what, const void* address = nullptr) noexcept;
}  // namespace fastpool::engine

#ifdef NDEBUG
#define FP_ASSERT(cond) ((void)0)
#else
#define FP_ASSERT(cond) \
  (FP_LIKELY(cond) ? (void)0 : ::fastpool::engine::fatal("assertion failed: " #cond))
#endif
