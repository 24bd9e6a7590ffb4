// Huge blocks: every request above kMaxLarge (and every alignment above 64 KiB) gets a
// mapping of its own, slice-aligned and a whole number of slices long, so that the page
// map resolves it like a segment's span:
//
//   base                 base + offset                          base + mapped
//   | header (4 KiB+)    | block ........................... slack |
//
// The header starts with the block's page record (kind huge); every slice of the
// mapping points at it. Huge blocks resize in place with mremap where the address space
// after them is free and otherwise move their pages to a new mapping (no copy).
//
// Freed huge mappings wait in a bounded cache, still resident, for a request they fit;
// they are unmapped after FASTPOOL_PURGE_DELAY_MS or on trim. While cached, the record's
// kind is `unused`, so a second free of the block is reported.
#pragma once

#include <pthread.h>

#include <cstddef>
#include <cstdint>

#include "segment/page.hpp"

namespace fastpool {

inline constexpr std::size_t kMaxLarge = std::size_t{2} << 20;  // above: huge

struct HugeHeader {
  Page page;           // first: the page map points here
  std::size_t mapped;  // bytes of the mapping (a multiple of kSliceSize)
  std::size_t offset;  // the block's offset from the mapping's start
  HugeHeader* next;    // cache links (guarded by the cache lock)
  HugeHeader* prev;
  std::uint64_t cached_at_ms;
};

inline HugeHeader* huge_header(Page* pg) noexcept {
  return reinterpret_cast<HugeHeader*>(pg);
}
inline char* huge_block(Page* pg) noexcept {
  HugeHeader* h = huge_header(pg);
  return reinterpret_cast<char*>(h) + h->offset;
}
// Bytes from the block's start to the mapping's end: all of it writable.
inline std::size_t huge_usable(Page* pg) noexcept {
  HugeHeader* h = huge_header(pg);
  return h->mapped - h->offset;
}

namespace huge {

// A block of `size` bytes aligned to `alignment` (a power of two). *zeroed: it reads as
// zero (a fresh mapping). Null when the OS refuses (the kernel's overcommit policy
// decides: no MAP_NORESERVE) or the size is impossible.
void* allocate(std::size_t size, std::size_t alignment, bool* zeroed) noexcept;
// Frees the huge block whose record is pg: to the cache, or unmapped.
void free(Page* pg) noexcept;
// Resizes the block to hold `size` bytes, in place where it can, else by moving its
// pages (contents kept, no copy). Returns the block's (maybe new) address, or null when
// it cannot grow (the block is untouched then).
void* resize(Page* pg, std::size_t size) noexcept;
// Unmaps cached mappings older than the purge delay (all of them with `force`).
void expire_cache(std::uint64_t now_ms, bool force) noexcept;

std::size_t live_count() noexcept;
std::size_t cached_bytes() noexcept;

// This layer's one mutex, held across fork by router/registry.cpp.
pthread_mutex_t& fork_lock() noexcept;

}  // namespace huge
}  // namespace fastpool
