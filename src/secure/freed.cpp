// Released blocks: what fill_freed and check_freed (secure/freed.hpp) call out of line.
#ifdef FASTPOOL_SECURE

#include "secure/freed.hpp"

#include "api/alloc.hpp"
#include "os/os.hpp"

namespace fastpool::secure {

char* big_block_end(char* b) noexcept {
  return block_span(b).end;
}

// 64 bytes a step in four SSE2 registers (GCC's vector types), the last 16 overlapping.
const unsigned char* first_other(const unsigned char* c, std::size_t n,
                                 unsigned char byte) noexcept {
  using V = freed::V;
  auto load = [c](std::size_t i) {
    V v;
    __builtin_memcpy(&v, c + i, 16);
    return v;
  };
  std::uint64_t pattern = byte * 0x0101010101010101ull, diff = 0;
  if (n >= 16) {
    V vp = {pattern, pattern}, v0 = {0, 0}, v1 = {0, 0};
    std::size_t i = 0;
    for (; i + 64 <= n; i += 64) {
      v0 |= (load(i) ^ vp) | (load(i + 16) ^ vp);
      v1 |= (load(i + 32) ^ vp) | (load(i + 48) ^ vp);
    }
    for (; i + 16 <= n; i += 16) v0 |= load(i) ^ vp;
    v0 |= (load(n - 16) ^ vp) | v1;
    diff = v0[0] | v0[1];
  } else {
    for (std::size_t i = 0; i < n; ++i) diff |= c[i] ^ byte;
  }
  if (FP_LIKELY(diff == 0)) return nullptr;
  while (*c == byte) ++c;
  return c;
}

void purge_between(char* from, char* to) noexcept {
  auto page = static_cast<std::uintptr_t>(os::page_size());
  auto lo = (reinterpret_cast<std::uintptr_t>(from) + page - 1) & ~(page - 1);
  auto hi = reinterpret_cast<std::uintptr_t>(to) & ~(page - 1);
  if (lo < hi) os::purge(reinterpret_cast<char*>(lo), hi - lo);
}

void report_written(const char* from, std::size_t n, unsigned char fill) noexcept {
  const unsigned char* c = first_other(reinterpret_cast<const unsigned char*>(from), n, fill);
  report("write after free detected", c != nullptr ? c : reinterpret_cast<const void*>(from));
}

}  // namespace fastpool::secure

#endif  // FASTPOOL_SECURE
