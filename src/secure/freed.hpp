// Released small blocks of the hardened layer, while they wait in the quarantine.
// The header before the user's bytes keeps what it held, marked released. Filled with
// keys().fill_byte: the user's first kWindow bytes (an object's first fields: its vtable,
// its links), and the last kWindow bytes the user had with the tail canary's 16 after
// them (a buffer's end); a block with fewer bytes than two windows, all of it to there.
// Blocks from 64 KiB on also give the whole pages between back (they read as zero until
// reused). Anything else found there when the block leaves the quarantine is a write
// after free. The core then keeps its encoded link and free tag in [b, b+16)
// (engine/free_list.hpp), which it checks before following them.
//
// Only windows: a fill and check of every byte made allocation-heavy programs several
// times slower, in proportion to their block sizes. Bytes between the windows of a block
// below 64 KiB keep what the program left there.
#pragma once

#include "secure/keys.hpp"
#include "segment/page.hpp"

namespace fastpool::secure {

inline constexpr std::size_t kHeader = 16;     // the block header, before the user's bytes
inline constexpr std::size_t kTailBytes = 16;  // the frame's tail canary, at most
inline constexpr std::size_t kWindow = 32;     // bytes filled and checked at each end

// A released small block: the core's [b, end), the user's [p, user_end).
struct Released {
  char* b;
  char* p;
  char* user_end;
  char* end;
};

// The end of the core's block that starts at b, on page pg.
char* big_block_end(char* b) noexcept;
FP_FAST_PATH char* block_end(const Page* pg, char* b) noexcept {
  if (FP_LIKELY(pg->kind == PageKind::small)) return b + pg->pool.block_size();
  return big_block_end(b);
}
// [from, to) of a block from 64 KiB: its whole pages given back.
void purge_between(char* from, char* to) noexcept;
// The first byte of the 16-byte units at[0..n) that is not `fill`, reported.
[[noreturn]] FP_COLD void report_written(char* const* at, int n, unsigned char fill) noexcept;

namespace freed {
using V = std::uint64_t __attribute__((vector_size(16)));
inline constexpr std::size_t kSparseFrom = 64 << 10;
inline constexpr int kUnits = 5;

// The windows as 16-byte units: [p, p+32) and [user_end-32, user_end+16), every unit
// moved inside [p, end) where it would stick out. In a small block units overlap and
// bytes are filled twice, so no block needs a branch of its own. There is room for one
// unit: classes are multiples of 16, and a block holds at least one byte past p.
struct Units {
  char* at[kUnits];
};
FP_FAST_PATH Units units(const Released& r) noexcept {
  static_assert(kWindow == 32 && kTailBytes == 16);
  char* lo = r.p;
  char* last = r.end - 16;
  auto clip = [lo, last](char* c) { return c < lo ? lo : c > last ? last : c; };
  char* t = r.user_end - kWindow;
  return {{lo, clip(lo + 16), clip(t), clip(t + 16), clip(r.user_end)}};
}
FP_FAST_PATH V pattern() noexcept {
  V v;
  __builtin_memcpy(&v, derived_keys().fill, sizeof v);
  return v;
}
}  // namespace freed

FP_FAST_PATH void fill_freed(const Released& r) noexcept {
  freed::V v = freed::pattern();
  freed::Units u = freed::units(r);
  for (char* c : u.at) __builtin_memcpy(c, &v, 16);
  if (r.end - r.b >= static_cast<std::ptrdiff_t>(freed::kSparseFrom))
    purge_between(r.p + kWindow, r.user_end - kWindow);
}

// REQUIRES: u = units(r), r filled (fill_freed). Aborts with the address of the first
// byte written since.
FP_FAST_PATH void check_freed(const freed::Units& u) noexcept {
  freed::V v = freed::pattern(), diff = {0, 0};
  for (const char* c : u.at) {
    freed::V a;
    __builtin_memcpy(&a, c, 16);
    diff |= a ^ v;
  }
  if (FP_UNLIKELY((diff[0] | diff[1]) != 0)) report_written(u.at, freed::kUnits, v[0] & 0xFF);
}

}  // namespace fastpool::secure
