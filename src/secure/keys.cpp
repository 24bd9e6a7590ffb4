// Per-process secrets from the kernel's AT_RANDOM bytes, unknown to the program.
#ifdef FASTPOOL_SECURE

#include "secure/keys.hpp"

#include <sys/auxv.h>

#include "fastpool/engine/free_list.hpp"

namespace fastpool::secure {

Keys g_keys;
std::atomic<bool> g_keys_ready{false};

void derive_keys() noexcept {
  std::uint64_t seed[2] = {0x243F6A8885A308D3ull, 0x13198A2E03707344ull};
  if (auto* r = reinterpret_cast<const void*>(getauxval(AT_RANDOM))) __builtin_memcpy(seed, r, 16);
  Keys k;
  k.canary = mix(seed[0]);
  k.freed = mix(seed[1]) | 1;
  k.marker = mix(seed[0] ^ seed[1]);
  k.link = mix(seed[1] + 0x9E3779B97F4A7C15ull);
  // Random bytes, but never text, zero or 0xFF (what stray writes mostly are): a write of
  // such a byte over a canary or a freed block is always seen.
  auto odd_byte = [](std::uint64_t r) {
    return static_cast<unsigned char>(0x80 | (r % 0x7F));  // 0x80..0xFE
  };
  k.tail_byte = odd_byte(k.marker >> 8);
  k.fill_byte = odd_byte(k.marker >> 16);
  if (k.fill_byte == k.tail_byte) k.fill_byte ^= 0x01;
  g_keys = k;
  g_keys_ready.store(true, std::memory_order_release);
}

}  // namespace fastpool::secure

namespace fastpool::engine {
std::uintptr_t link_key() noexcept {
  return secure::keys().link;
}
}  // namespace fastpool::engine

#endif  // FASTPOOL_SECURE
