// The page map: address -> page record, for every 64 KiB slice fastpool owns.
//
// Two levels, so that what it costs follows what is used: a top table in BSS with one
// word per 256 MiB of the 47-bit user address space (4 MiB of address space, resident
// only where written), each null or a leaf of one record pointer per slice (32 KiB,
// mapped on first use and kept for the life of the process). Leaves are filled with
// &g_empty_page, the sentinel: a slice fastpool does not own leads to a record with no
// owner and no blocks, so a lookup through an existing leaf never yields null.
//
// A top word holds its leaf's address biased by minus (top index * kLeafEntries)
// entries, so the leaf is indexed by the slice number itself: the free fast path is
// shift, shift, load, test, load, with no mask.
//
// Writers: the thread that maps or unmaps a span (its page record's owner); readers: any
// thread's free, with relaxed loads. An entry changes only while no live block lies in
// its slice, so a reader with a valid pointer always finds the right record.
#pragma once

#include "segment/page.hpp"

namespace fastpool {

inline constexpr int kAddressBits = 47;
inline constexpr int kLeafShift = 28;
inline constexpr int kLeafBits = kLeafShift - kSliceShift;
inline constexpr std::size_t kLeafEntries = std::size_t{1} << kLeafBits;
inline constexpr std::size_t kTopEntries = std::size_t{1} << (kAddressBits - kLeafShift);

extern FP_INTERNAL std::uintptr_t g_page_map_top[kTopEntries];

// The record of the page holding p; null where no leaf covers p (fastpool owns nothing
// within 256 MiB of it: NULL, say). REQUIRES: p below 2^47 (user space), else use
// page_map::find.
FP_FAST_PATH Page* page_or_null(const void* p) noexcept {
  auto slice = reinterpret_cast<std::uintptr_t>(p) >> kSliceShift;
  std::uintptr_t leaf = __atomic_load_n(&g_page_map_top[slice >> kLeafBits], __ATOMIC_RELAXED);
  if (FP_UNLIKELY(leaf == 0)) return nullptr;
  Page* pg =
      __atomic_load_n(reinterpret_cast<Page**>(leaf + slice * sizeof(Page*)), __ATOMIC_RELAXED);
  if (pg == nullptr) __builtin_unreachable();  // leaves hold records or the sentinel
  return pg;
}

// The record of a pointer fastpool handed out (never null).
FP_FAST_PATH Page* page_of(const void* p) noexcept {
  Page* pg = page_or_null(p);
  return FP_LIKELY(pg != nullptr) ? pg : &g_empty_page;
}

namespace page_map {

// Any pointer at all: its record, or the sentinel.
Page* find(const void* p) noexcept;
// True when p lies in a slice fastpool owns (any byte of a block, or a cached mapping).
inline bool owns(const void* p) noexcept {
  return find(p) != &g_empty_page;
}
// Points every slice of [base, base+size) at `pg`, making leaves where needed. False
// when a leaf cannot be mapped (then nothing is promised about the range: callers
// clear it). REQUIRES: base and size multiples of kSliceSize.
bool set(const void* base, std::size_t size, Page* pg) noexcept;
// Points every slice of [base, base+size) back at the sentinel.
void clear(const void* base, std::size_t size) noexcept;
// Bytes of leaves mapped.
std::size_t leaf_bytes() noexcept;

void fork_prepare() noexcept;
void fork_parent() noexcept;
void fork_child() noexcept;

}  // namespace page_map
}  // namespace fastpool
