// The page map: address -> page record, for every 64 KiB slice of the 47-bit user
// address space. Never null: slices fastpool does not own lead to g_empty_page, the
// sentinel record (no owner, no blocks), so free(p) needs no test of its own for NULL
// or for a pointer that is not fastpool's.
//
// Two levels, so that what it costs follows what is used: a top table with one word per
// 256 MiB, each leading to a leaf of one record pointer per slice (32 KiB, mapped on first
// use and kept for the life of the process; its 4 KiB pages are views of one shared page
// of sentinel pointers until an entry in them is written, page_map.cpp). Every top word
// that has no leaf of its own leads to one shared sentinel leaf.
//
// Encoding: top[i] holds (leaf - &top[0] - i * kLeafBytes), so that
//   record(p) = *(&top[0] + top[p >> 28] + (p >> 16) * 8)
// needs no mask and no test (the free fast path: shift, shift, load, add, load). The
// words for the sentinel leaf depend on i alone, so the whole table is a constant
// initialised at compile time: it sits in the library's data (4 MiB of address space,
// paged in from the file only where read, copied only where a leaf is installed).
//
// Writers: the thread that maps or unmaps a span; readers: any thread's free, with
// relaxed loads. An entry changes only while no live block lies in its slice, so a
// reader with a valid pointer always finds the right record.
#pragma once

#include <pthread.h>

#include "segment/page.hpp"

namespace fastpool {

inline constexpr int kAddressBits = 47;
inline constexpr int kLeafShift = 28;
inline constexpr int kLeafBits = kLeafShift - kSliceShift;
inline constexpr std::size_t kLeafEntries = std::size_t{1} << kLeafBits;
inline constexpr std::size_t kLeafBytes = kLeafEntries * sizeof(Page*);
inline constexpr std::size_t kTopEntries = std::size_t{1} << (kAddressBits - kLeafShift);

struct PageMap {
  alignas(4096) std::uintptr_t top[kTopEntries];  // page-aligned: see page_map.cpp
  Page* sentinel_leaf[kLeafEntries];
};
extern FP_INTERNAL PageMap g_page_map;

// The record of the page holding p (the sentinel where fastpool owns nothing).
// REQUIRES: p below 2^47 (user space); page_map::find takes any pointer.
FP_FAST_PATH Page* page_of(const void* p) noexcept {
  auto slice = reinterpret_cast<std::uintptr_t>(p) >> kSliceShift;
  auto base = reinterpret_cast<std::uintptr_t>(g_page_map.top);
  std::uintptr_t word = __atomic_load_n(&g_page_map.top[slice >> kLeafBits], __ATOMIC_RELAXED);
  Page** leaf = reinterpret_cast<Page**>(word + base);  // biased: indexed by the slice
  asm("" : "+r"(leaf));  // keeps GCC from re-associating into lea+add+load (one more)
  return __atomic_load_n(&leaf[slice], __ATOMIC_RELAXED);
}

namespace page_map {

// Any pointer at all: its record, or the sentinel.
inline Page* find(const void* p) noexcept {
  if ((reinterpret_cast<std::uintptr_t>(p) >> kAddressBits) != 0) return &g_empty_page;
  return page_of(p);
}
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
// Bytes of leaf pages of their own (the rest of every leaf is views of one shared page).
std::size_t leaf_bytes() noexcept;

// This layer's one mutex, held across fork by router/registry.cpp.
pthread_mutex_t& fork_lock() noexcept;

}  // namespace page_map
}  // namespace fastpool
