// Released blocks: filled, marked, and checked when they leave the quarantine and when
// they are handed out again.
#ifdef FASTPOOL_SECURE

#include "secure/freed.hpp"

#include "api/alloc.hpp"
#include "secure/keys.hpp"

namespace fastpool::secure {
namespace {

constexpr std::size_t kReuseWindow = 128;  // bytes at each end checked again at reuse

// Bound to the block and to its page's generation: a marker a block of an earlier page
// at the same address left behind never matches.
std::uint64_t marker(const char* b, const char* end, const Page* pg) noexcept {
  std::uint64_t generation = pg->generation;
  return mix(keys().marker ^ reinterpret_cast<std::uintptr_t>(b) ^
             (reinterpret_cast<std::uintptr_t>(end) << 17) ^ generation * 0x9E3779B97F4A7C15ull);
}

}  // namespace

char* block_end(const Page* pg, char* b) noexcept {
  if (pg->kind == PageKind::small) return b + pg->pool.block_size();
  return b + fastpool::usable_size(b);
}

// 32 bytes a step (two SSE2
// registers with GCC's vector types), then words, then bytes.
const unsigned char* first_other(const unsigned char* c, std::size_t n,
                                 unsigned char byte) noexcept {
  using V = std::uint64_t __attribute__((vector_size(16)));
  std::uint64_t pattern = byte * 0x0101010101010101ull, diff = 0;
  V vp = {pattern, pattern}, v0 = {0, 0}, v1 = {0, 0};
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    V a, b;
    __builtin_memcpy(&a, c + i, 16);
    __builtin_memcpy(&b, c + i + 16, 16);
    v0 |= a ^ vp;
    v1 |= b ^ vp;
  }
  v0 |= v1;
  diff = v0[0] | v0[1];
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    __builtin_memcpy(&w, c + i, 8);
    diff |= w ^ pattern;
  }
  for (; i < n; ++i) diff |= c[i] ^ byte;
  if (FP_LIKELY(diff == 0)) return nullptr;
  while (*c == byte) ++c;
  return c;
}

void fill_freed(char* b, char* end, const Page* pg) noexcept {
  __builtin_memset(b + kHeader, keys().fill_byte,
                   static_cast<std::size_t>(end - 8 - (b + kHeader)));
  std::uint64_t m = marker(b, end, pg);
  __builtin_memcpy(end - 8, &m, 8);
}

// A block released here: nothing may have written to it since.
void verify_fill(const char* b, const char* end) noexcept {
  auto* start = reinterpret_cast<const unsigned char*>(b + kHeader);
  if (const unsigned char* c =
          first_other(start, static_cast<std::size_t>(end - 8 - (b + kHeader)), keys().fill_byte))
    report("write after free detected", c);
}
bool has_marker(const char* b, const char* end, const Page* pg) noexcept {
  std::uint64_t m;
  __builtin_memcpy(&m, end - 8, 8);
  return m == marker(b, end, pg);
}

// A block the core hands out: if it was released here (and its page lived on), its first
// and last kReuseWindow bytes are checked again (the whole block was when it left the
// quarantine).
void check_reused(char* b, char* end, const Page* pg) noexcept {
  if (!has_marker(b, end, pg)) return;  // never released here (fresh, or freed by the core)
  if (end - b <= static_cast<std::ptrdiff_t>(2 * kReuseWindow + kHeader + 8)) {
    verify_fill(b, end);
  } else {
    verify_fill(b, b + kHeader + kReuseWindow + 8);
    verify_fill(end - 8 - kReuseWindow - kHeader, end);
  }
  __builtin_memset(end - 8, 0, 8);
}

// A block leaving the quarantine for the core: checked in full (its page may not live
// until the block is handed out again).
void check_evicted(char* b) noexcept {
  const Page* pg = page_map::find(b);
  char* end = block_end(pg, b);
  if (!has_marker(b, end, pg)) report("write after free detected", end - 8);
  verify_fill(b, end);
}

}  // namespace fastpool::secure

#endif  // FASTPOOL_SECURE
