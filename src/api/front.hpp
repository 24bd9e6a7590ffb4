// What the front doors call (override/, the fp_* C API): the core allocation API, or in
// FASTPOOL_SECURE builds the hardened layer over it (src/secure/), which frames every
// block with canaries, fills and quarantines freed blocks and checks how each is freed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "api/alloc.hpp"

namespace fastpool {

// How a block was allocated, so that the matching release can be checked.
enum class AllocKind : std::uint8_t { malloc, new_scalar, new_array };

#ifdef FASTPOOL_SECURE
namespace secure {
// `alignment`: a power of two, or 0 for malloc's 16. Null with errno = ENOMEM.
void* allocate(std::size_t size, std::size_t alignment, AllocKind kind) noexcept;
// `sized`: the size a sized delete passed, or 0.
void release(void* p, AllocKind kind, std::size_t sized) noexcept;
void* calloc(std::size_t n, std::size_t size) noexcept;
void* realloc(void* p, std::size_t size) noexcept;
std::size_t usable_size(const void* p) noexcept;
// What allocate returned for the block holding p, or null.
void* block_of(const void* p) noexcept;
// The calling thread's quarantine back to the heap, its counts to the process's
// (thread exit, trim).
void flush_thread() noexcept;
// Sizes asked for, of live blocks.
std::size_t requested_bytes() noexcept;
}  // namespace secure

inline void* front_malloc(std::size_t size, AllocKind kind = AllocKind::malloc) noexcept {
  return secure::allocate(size, 0, kind);
}
// REQUIRES: alignment is a power of two.
inline void* front_aligned(std::size_t alignment, std::size_t size,
                           AllocKind kind = AllocKind::malloc) noexcept {
  return secure::allocate(size, alignment, kind);
}
inline void front_free(void* p, AllocKind kind = AllocKind::malloc,
                       std::size_t sized = 0) noexcept {
  secure::release(p, kind, sized);
}
inline void* front_calloc(std::size_t n, std::size_t size) noexcept {
  return secure::calloc(n, size);
}
inline void* front_realloc(void* p, std::size_t size) noexcept {
  return secure::realloc(p, size);
}
inline std::size_t front_usable_size(const void* p) noexcept {
  return secure::usable_size(p);
}
inline void* front_block_of(const void* p) noexcept {
  return secure::block_of(p);
}
#else
FP_FAST_PATH void* front_malloc(std::size_t size, AllocKind = AllocKind::malloc) noexcept {
  return malloc_fast(size);
}
FP_FAST_PATH void* front_aligned(std::size_t alignment, std::size_t size,
                                 AllocKind = AllocKind::malloc) noexcept {
  return aligned_alloc_fast(alignment, size);
}
FP_FAST_PATH void front_free(void* p, AllocKind = AllocKind::malloc, std::size_t = 0) noexcept {
  free_fast(p);
}
inline void* front_calloc(std::size_t n, std::size_t size) noexcept {
  return calloc_impl(n, size);
}
inline void* front_realloc(void* p, std::size_t size) noexcept {
  return realloc_impl(p, size);
}
inline std::size_t front_usable_size(const void* p) noexcept {
  return usable_size(p);
}
inline void* front_block_of(const void* p) noexcept {
  return block_span(p).start;
}
#endif

}  // namespace fastpool
