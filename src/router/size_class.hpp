// Size classes: size -> class by table lookup, class -> block size.
//   classes 0..7: 16..128 in steps of 16 (no 8-byte class: a free block keeps its list
//            link and its free tag in two words, engine/free_list.hpp);
//   then 8 classes per power of two up to kMaxClassSize (step p/8 over (p, 2p]), so
//   internal waste stays under 1/9 (≤ 12.5%), but 16 over (1 KiB, 8 KiB] (step p/16,
//   waste under 1/17): a power of two plus a small header (a database's 4 KiB page and
//   its 8 bytes, a 1 KiB buffer and its length) is common there, and lost 12% of its
//   memory with 8. Past kMaxClassSize large blocks take whole 64 KiB slices, which wastes
//   at most 64 KiB / 512 KiB = 12.5% as well.
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
// The powers of two p whose (p, 2p] has 16 classes: 2^kFineFrom .. 2^(kFineTo - 1).
inline constexpr int kFineFrom = 10, kFineTo = 13;
constexpr int classes_above(int log) noexcept {  // classes over (2^log, 2^(log+1)]
  return log >= kFineFrom && log < kFineTo ? 16 : 8;
}
// The first class over (2^log, 2^(log+1)], for log >= 7.
constexpr int first_class_above(int log) noexcept {
  int fine = log < kFineFrom ? 0 : log < kFineTo ? log - kFineFrom : kFineTo - kFineFrom;
  return 8 + 8 * (log - 7) + 8 * fine;
}
inline constexpr int kClassCount = first_class_above(19);  // 2^7..2^18: twelve powers of two
// Classes whose blocks another thread's free may hold back in its batch (router/remote):
// up to 32 KiB, so a batch pins at most kRemoteBatch * 32 KiB.
inline constexpr int kBatchedClasses = first_class_above(15);

constexpr std::size_t class_size(int c) noexcept {
  if (c < 8) return static_cast<std::size_t>(c + 1) * 16;
  int log = 7;
  while (c >= first_class_above(log + 1)) ++log;
  std::size_t p = std::size_t{1} << log;
  return p + p / static_cast<std::size_t>(classes_above(log)) *
                 static_cast<std::size_t>(c - first_class_above(log) + 1);
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
  int step_log = log - std::countr_zero(static_cast<unsigned>(classes_above(log)));
  int k = static_cast<int>((size - p + (std::size_t{1} << step_log) - 1) >> step_log);
  return first_class_above(log) + (k - 1);
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

// The medium table: (size + 63) / 64 -> class, for kDirectMax < size <= kMaxSmall. Exact
// because every class above 1 KiB is a multiple of 64.
inline constexpr auto kMediumClass = [] {
  std::array<std::uint8_t, kMaxSmall / 64 + 1> t{};
  for (std::size_t i = kDirectMax / 64; i < t.size(); ++i)
    t[i] = static_cast<std::uint8_t>(size_class(i * 64));
  return t;
}();

// REQUIRES: kDirectMax < size <= kMaxSmall.
FP_FAST_PATH constexpr int medium_class(std::size_t size) noexcept {
  return kMediumClass[(size + 63) >> 6];
}

static_assert(class_size(kClassCount - 1) == kMaxClassSize);
static_assert(size_class(kMaxClassSize) == kClassCount - 1);
static_assert(class_size(kBatchedClasses - 1) == kMaxSmall);
static_assert(size_class(129) == 8 && class_size(8) == 144);
static_assert(medium_class(kDirectMax + 1) == size_class(kDirectMax + 1));
static_assert(class_size(size_class(4104)) == 4352 && class_size(size_class(1032)) == 1088);
static_assert(kClassCount <= 256, "classes are stored in a byte");

}  // namespace fastpool
