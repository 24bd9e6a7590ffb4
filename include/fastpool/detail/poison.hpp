// Free slots made visible to AddressSanitizer and, in debug builds, to the eye.
//
// Under ASan (-fsanitize=address) every free slot is poisoned, all but the engine's link
// word, so a use after release, an overflow into a free neighbour or a read of a destroyed
// pool's slot is reported at the faulting access; the pools' storage then comes from the
// C allocator ASan watches (a destroyed pool's memory is ASan's freed memory). Checked
// code (detail/diagnostics.hpp) fills a released object's bytes with kReleasedByte first.
// Either way nothing of this exists in a Release build without ASan.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define FP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FP_ASAN 1
#endif
#endif
#ifdef FP_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace fastpool::detail {

#ifdef FP_ASAN
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif
inline constexpr unsigned char kReleasedByte = 0xDB;

// A pool's slots: `size` bytes each, the engine's link word `link_at` bytes in, which
// other threads may read while the slot is free (LockFreePool); kNoLink: the engine
// never touches a free slot, or only past ASan (engine/linked_block_pool.hpp).
inline constexpr std::size_t kNoLink = ~std::size_t{0};
struct SlotShape {
  std::size_t size;
  std::size_t link_at;
};

// Effects (ASan): slots [first, first + n) are free: poisoned but for their link words,
// whose state is never changed (a lock-free pool's racing pops read them at any time).
inline void poison_slots(void* first, std::size_t n, SlotShape shape) noexcept {
#ifdef FP_ASAN
  auto* c = static_cast<char*>(first);
  if (shape.link_at == kNoLink) {
    ASAN_POISON_MEMORY_REGION(c, n * shape.size);
    return;
  }
  std::size_t after = shape.link_at + sizeof(void*);
  for (std::size_t i = 0; i < n; ++i, c += shape.size) {
    ASAN_POISON_MEMORY_REGION(c, shape.link_at);
    ASAN_POISON_MEMORY_REGION(c + after, shape.size - after);
  }
#else
  (void)first, (void)n, (void)shape;
#endif
}
// Effects (ASan): slots [first, first + n) may be used.
inline void unpoison_slots(void* first, std::size_t n, SlotShape shape) noexcept {
#ifdef FP_ASAN
  ASAN_UNPOISON_MEMORY_REGION(first, n * shape.size);
#else
  (void)first, (void)n, (void)shape;
#endif
}

}  // namespace fastpool::detail
