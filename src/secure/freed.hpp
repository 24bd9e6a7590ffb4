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
inline constexpr std::size_t kMinTail = 8;     // and at least: a frame adds kFrame bytes
inline constexpr std::size_t kFrame = kHeader + kMinTail;
inline constexpr std::size_t kWindow = 32;  // bytes filled and checked at each end

// A released small block: the core's [b, end), the user's bytes and the tail canary
// after them [p, filled_end): filled_end = min(user's end + kTailBytes, end), so
// p + 16 <= filled_end <= end (a block holds kMinTail bytes past p, in units of 16).
struct Released {
  Page* pg;  // b's
  char* b;
  char* p;
  char* filled_end;
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
namespace freed {
using V = std::uint64_t __attribute__((vector_size(16)));
inline constexpr std::size_t kSparseFrom = 64 << 10;
}  // namespace freed
// The first byte of the windows of [p, filled_end) that is not `fill`, reported. (Not
// given the units: their address would make every check keep them in memory.)
[[noreturn]] FP_COLD void report_written(char* p, char* filled_end, unsigned char fill) noexcept;

namespace freed {

// The windows as 16-byte units: [p, p+32) and [filled_end-48, filled_end), each unit
// moved inside [p, filled_end) where it would stick out, so a short block is filled
// whole with no branch of its own (units overlap, bytes are filled twice). Five named
// words, not an array: they stay in registers.
struct Units {
  char *a, *b, *c, *d, *e;
};
FP_FAST_PATH Units units(char* p, char* filled_end) noexcept {
  static_assert(kWindow == 32 && kTailBytes == 16);
  char* last = filled_end - 16;
  auto at_most = [last](char* c) { return c < last ? c : last; };
  auto at_least = [p](char* c) { return c > p ? c : p; };
  return {p, at_most(p + 16), at_least(last - 32), at_least(last - 16), last};
}
FP_FAST_PATH V pattern() noexcept {
  V v;
  __builtin_memcpy(&v, derived_keys().fill, sizeof v);
  return v;
}
FP_FAST_PATH V load(const char* c) noexcept {
  V v;
  __builtin_memcpy(&v, c, sizeof v);
  return v;
}
FP_FAST_PATH void store(char* c, V v) noexcept {
  __builtin_memcpy(c, &v, sizeof v);
}
}  // namespace freed

FP_FAST_PATH void fill_freed(const Released& r) noexcept {
  freed::V v = freed::pattern();
  freed::Units u = freed::units(r.p, r.filled_end);
  freed::store(u.a, v), freed::store(u.b, v), freed::store(u.c, v);
  freed::store(u.d, v), freed::store(u.e, v);
  if (r.end - r.b >= static_cast<std::ptrdiff_t>(freed::kSparseFrom))
    purge_between(r.p + kWindow, r.filled_end - kTailBytes - kWindow);
}

// REQUIRES: [p, filled_end) of a block filled (fill_freed). Aborts with the address of
// the first byte written since.
FP_FAST_PATH void check_freed(char* p, char* filled_end) noexcept {
  using freed::load;
  freed::Units u = freed::units(p, filled_end);
  freed::V v = freed::pattern();
  freed::V diff =
      (load(u.a) ^ v) | (load(u.b) ^ v) | (load(u.c) ^ v) | (load(u.d) ^ v) | (load(u.e) ^ v);
  if (FP_UNLIKELY((diff[0] | diff[1]) != 0)) report_written(p, filled_end, v[0] & 0xFF);
}

}  // namespace fastpool::secure
