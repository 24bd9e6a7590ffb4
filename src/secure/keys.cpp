// Per-process secrets from the kernel's AT_RANDOM bytes, unknown to the program.
#ifdef FASTPOOL_SECURE

#include "secure/keys.hpp"

#include <sys/auxv.h>

#include "fastpool/engine/free_list.hpp"

namespace fastpool::secure {

Keys g_keys;
std::atomic<bool> g_keys_ready{false};

void derive_keys() noexcept {
  if (g_keys_ready.load(std::memory_order_acquire)) return;  // a racing call did it
  std::uint64_t seed[2] = {0x243F6A8885A308D3ull, 0x13198A2E03707344ull};
  if (auto* r = reinterpret_cast<const void*>(getauxval(AT_RANDOM))) __builtin_memcpy(seed, r, 16);
  Keys k;
  k.canary = mix(seed[0]);
  k.canary_mul = mix(seed[0] + 0x9E3779B97F4A7C15ull) | 1;
  k.freed = mix(seed[1]) | 1;
  k.seed = mix(seed[0] ^ seed[1]);
  // Random bytes, but never text, zero or 0xFF (what stray writes mostly are): a write of
  // such a byte over a canary or a freed block is always seen.
  auto odd_byte = [](std::uint64_t r) {
    return static_cast<unsigned char>(0x80 | (r % 0x7F));  // 0x80..0xFE
  };
  k.tail_byte = odd_byte(k.seed >> 8);
  k.fill_byte = odd_byte(k.seed >> 16);
  if (k.fill_byte == k.tail_byte) k.fill_byte ^= 0x01;
  k.tail_word = k.tail_byte * 0x0101010101010101ull;
  k.fill[0] = k.fill[1] = k.fill_byte * 0x0101010101010101ull;
  g_keys = k;
  // Nonzero: zero means "not derived yet" to TaggedFreeList::prepare. Before the flag, so that
  // whoever sees the flag sees the link key too.
  __atomic_store_n(&engine::g_link_key, mix(seed[1] + 0x9E3779B97F4A7C15ull) | 1, __ATOMIC_RELAXED);
  g_keys_ready.store(true, std::memory_order_release);
}

}  // namespace fastpool::secure

namespace fastpool::engine {
FP_INTERNAL std::uintptr_t g_link_key = 0;
std::uintptr_t derive_link_key() noexcept {
  secure::derive_keys();
  return __atomic_load_n(&g_link_key, __ATOMIC_RELAXED);
}
}  // namespace fastpool::engine

#endif  // FASTPOOL_SECURE
