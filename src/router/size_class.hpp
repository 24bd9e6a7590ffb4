// Size classes: size -> class by table lookup, class -> block size.
//   classes 0..7: 16..128 in steps of 16 (no 8-byte class: a free block keeps its list
//            link and its free tag in two words, engine/free_list.hpp);
//   then 8 classes per power of two up to kMaxClassSize (step p/8 over (p, 2p]), so
//   internal waste stays under 1/9 (≤ 12.5%). Past kMaxClassSize large blocks take whole
//   64 KiB slices, which wastes at most 64 KiB / 512 KiB = 12.5% as well.
// Every block size of 16 or more is a multiple of 16, and a page starts 64 KiB aligned,
// so a block's natural alignment is the largest power of two dividing its size.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "fastpool/engine/platform.hpp"

namespace fastpool {

inline constexpr std::size_t kMaxSmall = 32 * 1024;       // the malloc fast path's tables end here
inline constexpr std::size_t kMaxClassSize = 512 * 1024;  // classes end here; then large spans
inline constexpr std::size_t kDirectMax = 1024;  // sizes the malloc fast path serves by table
// One slot per size: the malloc fast path indexes the table with the size itself (no
// rounding instructions), at 8 KiB of TLS per thread.
inline constexpr std::size_t kDirectSlots = kDirectMax + 1;
inline constexpr int kClassCount = 8 + 8 * 12;  // 2^7..2^18: twelve powers of two
// Classes whose blocks another thread's free may hold back in its batch (router/remote):
// up to 32 KiB, so a batch pins at most kRemoteBatch * 32 KiB.
inline constexpr int kBatchedClasses = 8 + 8 * 8;

constexpr std::size_t class_size(int c) noexcept {
  if (c < 8) return static_cast<std::size_t>(c + 1) * 16;
  int i = c - 8;
  std::size_t p = std::size_t{128} << (i / 8);
  return p + (p / 8) * static_cast<std::size_t>(i % 8 + 1);
}

// class_size as a table, for run-time lookups.
inline constexpr auto kClassSize = [] {
  std::array<std::uint32_t, kClassCount> t{};
  for (int c = 0; c < kClassCount; ++c) t[c] = static_cast<std::uint32_t>(class_size(c));
  return t;
}();

// REQUIRES: size <= kMaxClassSize.
constexpr int size_class(std::size_t size) noexcept {
  if (size <= 16) return 0;
  if (size <= 128) return static_cast<int>((size + 15) / 16) - 1;
  int log = static_cast<int>(std::bit_width(size - 1)) - 1;  // p = 2^log < size <= 2p
  std::size_t p = std::size_t{1} << log;
  int step_log = log - 3;  // step = p / 8: a shift, never a division
  int k = static_cast<int>((size - p + (std::size_t{1} << step_log) - 1) >> step_log);  // 1..8
  return 8 + (log - 7) * 8 + (k - 1);
}

// The direct table: size -> class, for sizes <= kDirectMax.
inline constexpr auto kDirectClass = [] {
  std::array<std::uint8_t, kDirectSlots> t{};
  for (std::size_t n = 0; n < kDirectSlots; ++n) t[n] = static_cast<std::uint8_t>(size_class(n));
  return t;
}();

FP_FAST_PATH constexpr std::size_t direct_slot(std::size_t size) noexcept {
  return size;
}

// The medium table: (size + 127) / 128 -> class, for kDirectMax < size <= kMaxSmall. Exact
// because every class above 1 KiB is a multiple of 128.
inline constexpr auto kMediumClass = [] {
  std::array<std::uint8_t, kMaxSmall / 128 + 1> t{};
  for (std::size_t i = kDirectMax / 128; i < t.size(); ++i)
    t[i] = static_cast<std::uint8_t>(size_class(i * 128));
  return t;
}();

// REQUIRES: kDirectMax < size <= kMaxSmall.
FP_FAST_PATH constexpr int medium_class(std::size_t size) noexcept {
  return kMediumClass[(size + 127) >> 7];
}

static_assert(class_size(kClassCount - 1) == kMaxClassSize);
static_assert(size_class(kMaxClassSize) == kClassCount - 1);
static_assert(class_size(kBatchedClasses - 1) == kMaxSmall);
static_assert(size_class(129) == 8 && class_size(8) == 144);
static_assert(medium_class(kDirectMax + 1) == size_class(kDirectMax + 1));

}  // namespace fastpool
