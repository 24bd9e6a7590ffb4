// Released blocks: filled, marked, and checked when they leave the quarantine and when
// they are handed out again.
#ifdef FASTPOOL_SECURE

#include "secure/freed.hpp"

#include "api/alloc.hpp"
#include "os/os.hpp"
#include "secure/keys.hpp"

namespace fastpool::secure {
namespace {

constexpr std::size_t kReuseWindow = 128;  // bytes at each end checked again at reuse
constexpr std::size_t kSparseFrom = 64 << 10;

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
  return block_span(b).end;
}

// 32 bytes a step (two SSE2 registers with GCC's vector types), then words, then bytes.
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

// Blocks from kSparseFrom bytes on keep the fill in their first and last pages only; the
// pages between are given back (purged: they read as zero, and cost no RSS), so a
// program that never touched most of a big block does not pay for it when it frees it.
struct Interior {
  char* from;  // page-aligned; from == to: none
  char* to;
};
Interior interior_of(char* b, char* end) noexcept {
  if (end - b < static_cast<std::ptrdiff_t>(kSparseFrom)) return {b, b};
  auto page = static_cast<std::uintptr_t>(os::page_size());
  auto from = (reinterpret_cast<std::uintptr_t>(b + kHeader) + page) & ~(page - 1);
  auto to = (reinterpret_cast<std::uintptr_t>(end - 8) - page) & ~(page - 1);
  if (to <= from) return {b, b};
  return {reinterpret_cast<char*>(from), reinterpret_cast<char*>(to)};
}

// Reports the first byte of [from, to) that is not `byte`.
void expect(const char* from, const char* to, unsigned char byte) noexcept {
  if (const unsigned char* c = first_other(reinterpret_cast<const unsigned char*>(from),
                                           static_cast<std::size_t>(to - from), byte))
    report("write after free detected", c);
}

void fill_freed(char* b, char* end, const Page* pg) noexcept {
  unsigned char fill = keys().fill_byte;
  Interior in = interior_of(b, end);
  if (in.from == in.to) {
    __builtin_memset(b + kHeader, fill, static_cast<std::size_t>(end - 8 - (b + kHeader)));
  } else {
    __builtin_memset(b + kHeader, fill, static_cast<std::size_t>(in.from - (b + kHeader)));
    os::purge(in.from, static_cast<std::size_t>(in.to - in.from));
    __builtin_memset(in.to, fill, static_cast<std::size_t>(end - 8 - in.to));
  }
  std::uint64_t m = marker(b, end, pg);
  __builtin_memcpy(end - 8, &m, 8);
}

// A block released here, [b+16, end-8): nothing may have written to it since.
void verify_fill(const char* b, const char* end) noexcept {
  expect(b + kHeader, end - 8, keys().fill_byte);
}
// The same for the whole block, its purged interior included (which must read as zero).
void verify_freed(char* b, char* end) noexcept {
  Interior in = interior_of(b, end);
  if (in.from == in.to) return verify_fill(b, end);
  unsigned char fill = keys().fill_byte;
  expect(b + kHeader, in.from, fill);
  expect(in.from, in.to, 0);
  expect(in.to, end - 8, fill);
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
  verify_freed(b, end);
}

}  // namespace fastpool::secure

#endif  // FASTPOOL_SECURE
