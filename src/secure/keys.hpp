// The hardened layer's secrets and the values derived from them: canaries, fill bytes,
// the free-list link key. Per process, from the kernel's AT_RANDOM bytes.
#pragma once

#include <atomic>
#include <cstdint>

#include "fastpool/engine/platform.hpp"

namespace fastpool::secure {

struct Keys {
  std::uint64_t canary, freed, marker, link;
  unsigned char tail_byte, fill_byte;  // never text, zero or 0xFF
};
extern Keys g_keys;
extern std::atomic<bool> g_keys_ready;
FP_COLD void derive_keys() noexcept;

// The same on every thread and at any time (no initialisation order): racing first
// calls all store the same values.
inline const Keys& keys() noexcept {
  if (FP_UNLIKELY(!g_keys_ready.load(std::memory_order_acquire))) derive_keys();
  return g_keys;
}

inline std::uint64_t mix(std::uint64_t x) noexcept {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A block header's canary for user pointer p and header word h0. Its top byte (the one
// a 1-byte underflow hits) is never text, zero or 0xFF either.
inline std::uint64_t canary(const void* p, std::uint64_t h0) noexcept {
  std::uint64_t c =
      mix(keys().canary ^ reinterpret_cast<std::uintptr_t>(p) ^ (h0 * 0x9E3779B97F4A7C15ull));
  return (c & ~(std::uint64_t{0xFF} << 56)) | std::uint64_t{0x80 | ((c >> 56) % 0x7F)} << 56;
}

[[noreturn]] FP_COLD inline void report(const char* what, const void* p) noexcept {
  engine::fatal(what, p);
}

}  // namespace fastpool::secure
