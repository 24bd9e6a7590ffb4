// The hardened layer's secrets and the values derived from them: canaries, fill bytes,
// the core's free-list link key (engine::g_link_key). Per process, from the kernel's AT_RANDOM
// bytes.
#pragma once

#include <atomic>
#include <cstdint>

#include "fastpool/engine/platform.hpp"

namespace fastpool::secure {

struct Keys {
  std::uint64_t canary, canary_mul, freed, seed;  // canary_mul odd; seed: the quarantines'
  unsigned char tail_byte, fill_byte;             // never text, zero or 0xFF
  std::uint64_t tail_word;                        // tail_byte in every byte
  alignas(16) std::uint64_t fill[2];              // fill_byte in every byte
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

// The keys where a block of this layer's is in hand (the allocate that framed it derived
// them, and whoever holds its pointer is ordered after that allocate), or where the
// calling thread has a current page (only a framed block's allocation makes one, see
// allocate). No check, no fence.
inline const Keys& derived_keys() noexcept {
  return g_keys;
}

inline std::uint64_t mix(std::uint64_t x) noexcept {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A block header's canary for user pointer p and header word h0: one multiply by a
// secret, as it is computed on every malloc and free. It catches stray writes, not an
// attacker who reads memory: a product bit depends only on the bits below it, so a few
// readable headers give the keys away (and the keys are in memory anyway). Its top byte
// (the one a 1-byte underflow hits) is 0x80..0xBF: never text, zero or 0xFF.
FP_FAST_PATH std::uint64_t canary(const Keys& k, const void* p, std::uint64_t h0) noexcept {
  std::uint64_t c = (reinterpret_cast<std::uintptr_t>(p) ^ (h0 << 1) ^ k.canary) * k.canary_mul;
  return c >> 2 | std::uint64_t{1} << 63;
}

[[noreturn]] FP_COLD inline void report(const char* what, const void* p) noexcept {
  engine::fatal(what, p);
}

}  // namespace fastpool::secure
