#include "segment/huge.hpp"

#include <pthread.h>

#include <new>

#include "os/options.hpp"
#include "os/os.hpp"
#include "segment/largest_freed.hpp"
#include "segment/page_map.hpp"
#include "segment/segment.hpp"

namespace fastpool::huge {
namespace {

#ifdef FASTPOOL_SECURE
constexpr bool kHardened = true;
#else
constexpr bool kHardened = false;
#endif

// The cache: freed mappings of default placement (offset == page size), newest first.
// Bounded in count and bytes; guarded by g_lock. What it holds is resident, so its bytes
// are also held to an eighth of the rest of what is mapped, above a floor of 32 MiB
// (glibc's largest mmap threshold: a buffer that size cycled by a small program stays
// resident under glibc too). A program that frees 64 MiB to allocate 128 MiB does not
// keep both.
constexpr int kCacheMaxCount = 16;
constexpr std::size_t kCacheMaxBytes = std::size_t{256} << 20;
constexpr std::size_t kCacheFloorBytes = std::size_t{32} << 20;
pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
HugeHeader* g_cache = nullptr;
int g_cache_count = 0;  // written under g_lock, read without it (a hint)
std::size_t g_cache_bytes = 0;
std::atomic<std::size_t> g_live{0};
std::atomic<std::uint64_t> g_next_expiry_ms{~std::uint64_t{0}};  // earliest cached_at + delay

constexpr std::size_t kMaxHuge = std::size_t{1} << 46;

LargestFreed g_largest_freed;  // its rule: segment/largest_freed.hpp

// What the cache may hold now. REQUIRES: g_lock held.
std::size_t cache_limit() noexcept {
  std::size_t mapped = segment::counters.bytes_mapped.load(std::memory_order_relaxed);
  std::size_t rest = mapped > g_cache_bytes ? mapped - g_cache_bytes : 0;
  std::size_t limit = rest / 8 > kCacheFloorBytes ? rest / 8 : kCacheFloorBytes;
  return limit < kCacheMaxBytes ? limit : kCacheMaxBytes;
}

std::size_t round_slices(std::size_t n) noexcept {
  return (n + kSliceSize - 1) & ~(kSliceSize - 1);
}

// Where the block sits in its mapping for an alignment: one OS page of header for the
// usual alignments, the alignment itself up to a slice, one slice above (the mapping then
// starts a slice before an aligned address).
std::size_t offset_for(std::size_t alignment) noexcept {
  std::size_t ps = os::page_size();
  if (alignment <= ps) return ps;
  return alignment < kSliceSize ? alignment : kSliceSize;
}

// A mapping of `bytes` placed for `alignment`: slice-aligned, and base + offset aligned.
void* map_placed(std::size_t bytes, std::size_t alignment) noexcept {
  if (alignment <= kSliceSize) return os::map_aligned(bytes, kSliceSize);
  return os::map_aligned(bytes, alignment, kSliceSize);
}

void unmap_header(HugeHeader* h) noexcept {
  page_map::clear(h, h->mapped);
  segment::counters.bytes_mapped.fetch_sub(h->mapped, std::memory_order_relaxed);
  segment::counters.count_release(h->mapped);
  os::unmap(h, h->mapped);
}

// Gives the mapping's tail past `need` bytes back. The tail's map entries are cleared
// first: once the address space is free, another thread's new mapping may land there
// and set entries of its own.
void shrink_mapping(HugeHeader* h, std::size_t need) noexcept {
  auto* base = reinterpret_cast<char*>(h);
  page_map::clear(base + need, h->mapped - need);
  if (!os::remap_in_place(h, h->mapped, need)) {  // cannot happen for a shrink
    page_map::set(base + need, h->mapped - need, &h->page);
    return;
  }
  segment::counters.bytes_mapped.fetch_sub(h->mapped - need, std::memory_order_relaxed);
  segment::counters.count_release(h->mapped - need);
  h->mapped = need;
}

void cache_unlink(HugeHeader* h) noexcept {
  if (h->prev != nullptr)
    h->prev->next = h->next;
  else
    g_cache = h->next;
  if (h->next != nullptr) h->next->prev = h->prev;
  __atomic_store_n(&g_cache_count, g_cache_count - 1, __ATOMIC_RELAXED);
  __atomic_store_n(&g_cache_bytes, g_cache_bytes - h->mapped, __ATOMIC_RELAXED);
}

// The smallest cached mapping of at least `need` bytes, unlinked; null if none.
HugeHeader* cache_take(std::size_t need) noexcept {
  if (__atomic_load_n(&g_cache_count, __ATOMIC_RELAXED) == 0) return nullptr;
  pthread_mutex_lock(&g_lock);
  HugeHeader* best = nullptr;
  for (HugeHeader* h = g_cache; h != nullptr; h = h->next)
    if (h->mapped >= need && (best == nullptr || h->mapped < best->mapped)) best = h;
  if (best != nullptr) cache_unlink(best);
  pthread_mutex_unlock(&g_lock);
  return best;
}

// Unlinks the expired entries (all with force) onto a private list, under the lock.
HugeHeader* cache_take_expired(std::uint64_t now, bool force) noexcept {
  auto delay = static_cast<std::uint64_t>(option(Option::purge_delay_ms));
  HugeHeader* out = nullptr;
  std::uint64_t next = ~std::uint64_t{0};
  for (HugeHeader* h = g_cache; h != nullptr;) {
    HugeHeader* following = h->next;
    if (force || h->cached_at_ms + delay <= now) {
      cache_unlink(h);
      h->next = out;
      out = h;
    } else if (h->cached_at_ms + delay < next) {
      next = h->cached_at_ms + delay;
    }
    h = following;
  }
  g_next_expiry_ms.store(next, std::memory_order_relaxed);
  return out;
}

void unmap_list(HugeHeader* h) noexcept {
  while (h != nullptr) {
    HugeHeader* next = h->next;
    unmap_header(h);
    h = next;
  }
}

}  // namespace

void* allocate(std::size_t size, std::size_t alignment, bool* zeroed) noexcept {
  if (size > kMaxHuge || alignment > kMaxHuge) return nullptr;
  if (size == 0) size = 1;  // the block must own the slice it starts in
  std::size_t offset = offset_for(alignment);
  std::size_t need = round_slices(offset + size);
  HugeHeader* h = offset == os::page_size() ? cache_take(need) : nullptr;
  if (h != nullptr && kHardened &&
      !os::protect(huge_block(&h->page), huge_usable(&h->page), true)) {
    unmap_header(h);  // cannot unseal it (out of mappings): a fresh one instead
    h = nullptr;
  }
  if (h != nullptr) {
    // Too big a fit gives its tail back first, so RSS follows the request.
    if (h->mapped - need > need / 4) shrink_mapping(h, need);
    *zeroed = false;
  } else {
    void* base = map_placed(need, alignment);
    if (base == nullptr) return nullptr;
    h = new (base) HugeHeader{};
    h->mapped = need;
    h->offset = offset;
    if (!page_map::set(h, need, &h->page)) {
      page_map::clear(h, need);
      os::unmap(h, need);
      return nullptr;
    }
    segment::counters.bytes_mapped.fetch_add(need, std::memory_order_relaxed);
    *zeroed = true;
  }
  h->page.kind = PageKind::huge;
  g_live.fetch_add(1, std::memory_order_relaxed);
  return reinterpret_cast<char*>(h) + h->offset;
}

void free(Page* pg) noexcept {
  HugeHeader* h = huge_header(pg);
  pg->kind = PageKind::unused;
  g_live.fetch_sub(1, std::memory_order_relaxed);
  std::uint64_t now = os::now_ms();
  HugeHeader* expired = nullptr;
  bool cached = false;
  // Hardened builds seal the block while it is cached (its header page stays readable
  // for the cache links), so a use after free faults; no seal, no cache.
  if (h->offset == os::page_size() && h->mapped <= kCacheMaxBytes &&
      !g_largest_freed.outgrown_by(h->mapped) &&
      (!kHardened || os::protect(huge_block(pg), huge_usable(pg), false))) {
    pthread_mutex_lock(&g_lock);
    std::size_t limit = cache_limit();
    if (h->mapped <= limit) {
      // Room first: the oldest entries go (the list is newest first).
      while (g_cache != nullptr &&
             (g_cache_count >= kCacheMaxCount || g_cache_bytes + h->mapped > limit)) {
        HugeHeader* last = g_cache;
        while (last->next != nullptr) last = last->next;
        cache_unlink(last);
        last->next = expired;
        expired = last;
      }
      h->cached_at_ms = now;
      h->prev = nullptr;
      h->next = g_cache;
      if (g_cache != nullptr) g_cache->prev = h;
      g_cache = h;
      __atomic_store_n(&g_cache_count, g_cache_count + 1, __ATOMIC_RELAXED);
      __atomic_store_n(&g_cache_bytes, g_cache_bytes + h->mapped, __ATOMIC_RELAXED);
      auto due = now + static_cast<std::uint64_t>(option(Option::purge_delay_ms));
      if (due < g_next_expiry_ms.load(std::memory_order_relaxed))
        g_next_expiry_ms.store(due, std::memory_order_relaxed);
      cached = true;
    }
    pthread_mutex_unlock(&g_lock);
  }
  unmap_list(expired);
  if (!cached) unmap_header(h);
  expire_cache(now, false);
}

void* resize(Page* pg, std::size_t size) noexcept {
  HugeHeader* h = huge_header(pg);
  if (size > kMaxHuge) return nullptr;
  std::size_t need = round_slices(h->offset + size);
  auto* base = reinterpret_cast<char*>(h);
  if (need <= h->mapped) {  // shrink: the tail goes back to the OS at once
    if (need < h->mapped) shrink_mapping(h, need);
    return base + h->offset;
  }
  std::size_t old = h->mapped;
  if (os::remap_in_place(h, old, need)) {
    if (page_map::set(base + old, need - old, pg)) {
      segment::counters.bytes_mapped.fetch_add(need - old, std::memory_order_relaxed);
      h->mapped = need;
      return base + h->offset;
    }
    page_map::clear(base + old, need - old);
    os::remap_in_place(h, need, old);
    return nullptr;
  }
  // Move: to a new mapping placed like the old one, with a quarter more room so that a
  // buffer growing by small steps moves O(log n) times, not once per step.
  std::size_t grown = round_slices(need + need / 4);
  std::size_t alignment = h->offset == os::page_size() ? os::page_size() : h->offset;
  if (h->offset == kSliceSize) {  // placed for a larger alignment: keep what it has
    auto block = reinterpret_cast<std::uintptr_t>(base + h->offset);
    alignment = block & (~block + 1);
  }
  void* to = map_placed(grown, alignment);
  if (to == nullptr) return nullptr;
  // The old range's entries go first (its address space is free once the pages move).
  page_map::clear(base, old);
  if (!page_map::set(to, grown, &g_empty_page) || !os::remap_to(h, old, grown, to)) {
    page_map::clear(to, grown);
    os::unmap(to, grown);
    page_map::set(base, old, pg);  // leaves exist: cannot fail
    return nullptr;
  }
  h = static_cast<HugeHeader*>(to);
  h->mapped = grown;
  page_map::set(h, grown, &h->page);
  segment::counters.bytes_mapped.fetch_add(grown - old, std::memory_order_relaxed);
  return reinterpret_cast<char*>(h) + h->offset;
}

void expire_cache(std::uint64_t now, bool force) noexcept {
  if (!force && now < g_next_expiry_ms.load(std::memory_order_relaxed)) return;
  pthread_mutex_lock(&g_lock);
  HugeHeader* expired = cache_take_expired(now, force);
  pthread_mutex_unlock(&g_lock);
  unmap_list(expired);
}

std::size_t live_count() noexcept {
  return g_live.load(std::memory_order_relaxed);
}
std::size_t cached_bytes() noexcept {
  return __atomic_load_n(&g_cache_bytes, __ATOMIC_RELAXED);
}

pthread_mutex_t& fork_lock() noexcept {
  return g_lock;
}

}  // namespace fastpool::huge
