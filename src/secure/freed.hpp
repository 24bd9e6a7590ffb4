// Released small blocks of the hardened layer, while they wait in the quarantine.
// [b, b+16) keeps what was there (a plain block's header, marked released). Filled with
// keys().fill_byte: the kWindow bytes after that (an object's first fields: its vtable,
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

inline constexpr std::size_t kHeader = 16;     // the block header, and where the fill starts
inline constexpr std::size_t kTailBytes = 16;  // the frame's tail canary, at most
inline constexpr std::size_t kWindow = 32;     // bytes filled and checked at each end

// A released small block: the core's [b, end), the user's bytes ending at user_end.
struct Released {
  char* b;
  char* user_end;
  char* end;
};

// The end of the core's block that starts at b, on page pg.
char* big_block_end(char* b) noexcept;
FP_FAST_PATH char* block_end(const Page* pg, char* b) noexcept {
  if (FP_LIKELY(pg->kind == PageKind::small)) return b + pg->pool.block_size();
  return big_block_end(b);
}
// The first of n bytes from c that is not `byte`, or null.
const unsigned char* first_other(const unsigned char* c, std::size_t n,
                                 unsigned char byte) noexcept;
// [from, to) of a block from 64 KiB: its whole pages given back.
void purge_between(char* from, char* to) noexcept;
[[noreturn]] FP_COLD void report_written(const char* from, std::size_t n,
                                         unsigned char fill) noexcept;

namespace freed {
using V = std::uint64_t __attribute__((vector_size(16)));
inline constexpr std::size_t kSparseFrom = 64 << 10;

// [c, c+n) set to the pattern, n >= 16: 16-byte stores, the last one overlapping.
FP_FAST_PATH void fill(char* c, std::size_t n, V v) noexcept {
  for (std::size_t i = 0; i + 16 < n; i += 16) __builtin_memcpy(c + i, &v, 16);
  __builtin_memcpy(c + n - 16, &v, 16);
}
// Whether [c, c+n), n >= 16, still holds the pattern.
FP_FAST_PATH bool intact(const char* c, std::size_t n, V v) noexcept {
  V a, diff = {0, 0};
  for (std::size_t i = 0; i + 16 < n; i += 16) {
    __builtin_memcpy(&a, c + i, 16);
    diff |= a ^ v;
  }
  __builtin_memcpy(&a, c + n - 16, 16);
  diff |= a ^ v;
  return (diff[0] | diff[1]) == 0;
}
FP_FAST_PATH V pattern() noexcept {
  std::uint64_t w = keys().fill_byte * 0x0101010101010101ull;
  return V{w, w};
}

// What is filled: [b+16, head_end) and [tail_from, tail_end); tail_from == b+16: one
// range. Each is at least 16 bytes: every framed block is at least 32 (a header and a
// byte take a 32-byte class), and tail_end reaches past the user's bytes.
struct Ranges {
  char* head_end;
  char* tail_from;
  char* tail_end;
};
FP_FAST_PATH Ranges ranges(const Released& r) noexcept {
  char* from = r.b + kHeader;
  char* tail_end = r.end - r.user_end > static_cast<std::ptrdiff_t>(kTailBytes)
                       ? r.user_end + kTailBytes
                       : r.end;
  if (r.user_end - from < static_cast<std::ptrdiff_t>(2 * kWindow)) return {from, from, tail_end};
  return {from + kWindow, r.user_end - kWindow, tail_end};
}
}  // namespace freed

FP_FAST_PATH void fill_freed(const Released& r) noexcept {
  freed::V v = freed::pattern();
  freed::Ranges g = freed::ranges(r);
  char* from = r.b + kHeader;
  if (g.tail_from != from) freed::fill(from, kWindow, v);
  freed::fill(g.tail_from, static_cast<std::size_t>(g.tail_end - g.tail_from), v);
  if (r.end - r.b >= static_cast<std::ptrdiff_t>(freed::kSparseFrom))
    purge_between(g.head_end, g.tail_from);
}

// REQUIRES: fill_freed(r) was called. Aborts with the address of the first byte written
// since.
FP_FAST_PATH void check_freed(const Released& r) noexcept {
  freed::V v = freed::pattern();
  freed::Ranges g = freed::ranges(r);
  char* from = r.b + kHeader;
  if (g.tail_from != from && FP_UNLIKELY(!freed::intact(from, kWindow, v)))
    report_written(from, kWindow, static_cast<unsigned char>(v[0]));
  auto n = static_cast<std::size_t>(g.tail_end - g.tail_from);
  if (FP_UNLIKELY(!freed::intact(g.tail_from, n, v)))
    report_written(g.tail_from, n, static_cast<unsigned char>(v[0]));
}

}  // namespace fastpool::secure
