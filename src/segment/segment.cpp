#include "segment/segment.hpp"

#include <pthread.h>

#include <new>

#include "os/options.hpp"
#include "os/os.hpp"

namespace fastpool {

constinit Page g_empty_page{};
namespace {
Page* g_boot_map[1] = {&g_empty_page};
}
Page** g_page_map = g_boot_map;

}  // namespace fastpool

namespace fastpool::segment {

Counters counters;

namespace {

constexpr std::size_t kMapEntries = std::size_t{1} << (47 - kSliceShift);

// Points to the real map once the first segment is mapped; guarded by g_cache_lock.
Page** g_real_map = nullptr;

// Sets the map entries of [base, base+size) to `pg` (null to clear).
void map_set(const void* base, std::size_t size, Page* pg) noexcept {
  Page** map = __atomic_load_n(&g_page_map, __ATOMIC_ACQUIRE);
  auto first = reinterpret_cast<std::uintptr_t>(base) >> kSliceShift;
  auto last = (reinterpret_cast<std::uintptr_t>(base) + size - 1) >> kSliceShift;
  for (auto i = first; i <= last && i < kMapEntries; ++i)
    __atomic_store_n(&map[i], pg, __ATOMIC_RELEASE);
}

// Empty segments kept mapped (purged) for reuse, so a thread that frees everything and
// allocates again does not pay for mmap/munmap. Guarded by g_cache_lock.
constexpr int kCacheMax = 64;
Segment* g_cache[kCacheMax];
int g_cache_count = 0;
pthread_mutex_t g_cache_lock = PTHREAD_MUTEX_INITIALIZER;

constexpr std::uint64_t kAllSlices = ~std::uint64_t{0};
constexpr std::uint64_t kHeaderSlice = 1;

std::size_t header_bytes() noexcept {
  std::size_t ps = os::page_size();
  return (sizeof(Segment) + ps - 1) & ~(ps - 1);
}

// Reserves the page map on first use. The reservation is address space only: entries
// are touched (and become resident) only for slices that segments occupy.
bool ensure_page_map() noexcept {
  if (__atomic_load_n(&g_page_map, __ATOMIC_ACQUIRE) != g_boot_map) return true;
  pthread_mutex_lock(&g_cache_lock);
  if (g_real_map == nullptr) {
    void* m = os::map_aligned(kMapEntries * sizeof(Page*), os::page_size());
    if (m != nullptr) {
      g_real_map = static_cast<Page**>(m);
      g_real_map[0] = &g_empty_page;
      __atomic_store_n(&g_page_map, g_real_map, __ATOMIC_RELEASE);
    }
  }
  pthread_mutex_unlock(&g_cache_lock);
  if (g_real_map == nullptr) {
    static std::atomic<bool> said{false};
    if (!said.exchange(true))
      os::write_stderr("fastpool: cannot reserve the page map (16 GiB of address space)\n");
    return false;
  }
  return true;
}

Segment* map_segment(std::size_t size) noexcept {
  if (!ensure_page_map()) return nullptr;
  void* p = os::map_aligned(size, kSegmentSize);
  if (p == nullptr) return nullptr;
  counters.segments.fetch_add(1, std::memory_order_relaxed);
  counters.bytes_mapped.fetch_add(size, std::memory_order_relaxed);
  return static_cast<Segment*>(p);
}

void unmap_segment(Segment* s) noexcept {
  std::size_t size = s->mapped_size;
  counters.segments.fetch_sub(1, std::memory_order_relaxed);
  counters.bytes_mapped.fetch_sub(size, std::memory_order_relaxed);
  os::unmap(s, size);
}

// A kSegmentSize mapping from the cache or the OS; its bytes past the header are zero.
Segment* take_segment() noexcept {
  Segment* s = nullptr;
  pthread_mutex_lock(&g_cache_lock);
  if (g_cache_count > 0) s = g_cache[--g_cache_count];
  pthread_mutex_unlock(&g_cache_lock);
  return s != nullptr ? s : map_segment(kSegmentSize);
}

// Takes a kSegmentSize segment back: purged and cached, or unmapped.
void give_segment(Segment* s) noexcept {
  std::size_t keep = static_cast<std::size_t>(option(Option::segment_cache));
  if (keep > kCacheMax) keep = kCacheMax;
  map_set(s, s->mapped_size, nullptr);
  std::size_t hb = header_bytes();
  os::purge(reinterpret_cast<char*>(s) + hb, kSegmentSize - hb);
  pthread_mutex_lock(&g_cache_lock);
  bool cached = static_cast<std::size_t>(g_cache_count) < keep;
  if (cached) g_cache[g_cache_count++] = s;
  pthread_mutex_unlock(&g_cache_lock);
  if (!cached) unmap_segment(s);
}

void init_header(Segment* s, SegmentKind kind, std::size_t mapped, Heap* heap) noexcept {
  s->kind = kind;
  s->mapped_size = mapped;
  s->heap = heap;
  s->free_slices = kAllSlices & ~kHeaderSlice;
  s->dirty_slices = 0;
  s->purge_at_ms = 0;
  s->next = s->prev = nullptr;
  s->huge_usable = 0;
  for (Page& pg : s->pages) new (&pg) Page();
}

std::uint64_t run_mask(int first, int count) noexcept {
  std::uint64_t m = count >= 64 ? kAllSlices : ((std::uint64_t{1} << count) - 1);
  return m << first;
}

}  // namespace

Segment* acquire(Heap* heap) noexcept {
  Segment* s = take_segment();
  if (s == nullptr) return nullptr;
  init_header(s, SegmentKind::normal, kSegmentSize, heap);
  for (int i = 0; i < kSlicesPerSegment; ++i) map_set(slice_start(s, i), kSliceSize, &s->pages[i]);
  return s;
}

void release(Segment* s) noexcept {
  FP_ASSERT(all_free(s));
  give_segment(s);
}

bool all_free(const Segment* s) noexcept {
  return s->free_slices == (kAllSlices & ~kHeaderSlice);
}

int find_free_run(const Segment* s, int count, bool dirty_only) noexcept {
  std::uint64_t f = dirty_only ? s->dirty_slices : s->free_slices;  // dirty ⊆ free
  if (count == 1) return f == 0 ? -1 : __builtin_ctzll(f);
  // Runs of `count` ones: AND the map with itself shifted 1..count-1 times.
  std::uint64_t runs = f;
  for (int i = 1; i < count && runs != 0; ++i) runs &= f >> i;
  return runs == 0 ? -1 : __builtin_ctzll(runs);
}

Page* take_span(Segment* s, int first, int count, PageKind kind) noexcept {
  FP_ASSERT((s->free_slices & run_mask(first, count)) == run_mask(first, count));
  std::uint64_t m = run_mask(first, count);
  s->free_slices &= ~m;
  s->dirty_slices &= ~m;  // reused before its purge: nothing to purge
  Page* pg = &s->pages[first];
  if (count > 1) map_set(slice_start(s, first), static_cast<std::size_t>(count) * kSliceSize, pg);
  pg->kind = kind;
  pg->slice_count = static_cast<std::uint8_t>(count);
  pg->full = false;
  pg->next = pg->prev = nullptr;
  return pg;
}

bool grow_span(Segment* s, Page* pg, int count) noexcept {
  int first = page_index(s, pg), have = pg->slice_count;
  if (first + count > kSlicesPerSegment) return false;
  std::uint64_t more = run_mask(first + have, count - have);
  if ((s->free_slices & more) != more) return false;
  s->free_slices &= ~more;
  s->dirty_slices &= ~more;
  map_set(slice_start(s, first + have), static_cast<std::size_t>(count - have) * kSliceSize, pg);
  pg->slice_count = static_cast<std::uint8_t>(count);
  return true;
}

void free_span(Segment* s, Page* pg, std::uint64_t now_ms) noexcept {
  int first = page_index(s, pg), count = pg->slice_count;
  pg->kind = PageKind::unused;
  pg->owner.store(0, std::memory_order_relaxed);
  for (int i = 1; i < count; ++i)
    map_set(slice_start(s, first + i), kSliceSize, &s->pages[first + i]);
  std::uint64_t m = run_mask(first, count);
  s->free_slices |= m;
  if (s->dirty_slices == 0)
    s->purge_at_ms = now_ms + static_cast<std::uint64_t>(option(Option::purge_delay_ms));
  s->dirty_slices |= m;
}

bool purge(Segment* s, std::uint64_t now_ms, bool force) noexcept {
  if (s->dirty_slices == 0 || (!force && now_ms < s->purge_at_ms)) return false;
  std::uint64_t d = s->dirty_slices;
  while (d != 0) {  // one madvise per run of dirty slices
    int first = __builtin_ctzll(d);
    std::uint64_t ones = ~(d >> first);  // zeros mark the run
    int len = ones == 0 ? 64 - first : __builtin_ctzll(ones);
    os::purge(slice_start(s, first), static_cast<std::size_t>(len) * kSliceSize);
    d &= ~run_mask(first, len);
  }
  s->dirty_slices = 0;
  return true;
}

void* huge_alloc(std::size_t size, std::size_t alignment, bool* zeroed) noexcept {
  std::size_t ps = os::page_size();
  std::size_t align = alignment > ps ? alignment : ps;
  std::size_t offset = (sizeof(Segment) + align - 1) & ~(align - 1);
  if (size > (std::size_t{1} << 46)) return nullptr;
  std::size_t total = (offset + size + ps - 1) & ~(ps - 1);
  Segment* s = total <= kSegmentSize ? take_segment() : map_segment(total);
  if (s == nullptr) return nullptr;
  std::size_t mapped = total <= kSegmentSize ? kSegmentSize : total;
  init_header(s, SegmentKind::huge, mapped, nullptr);
  s->free_slices = 0;
  s->huge_usable = mapped - offset;
  s->pages[0].kind = PageKind::huge;
  map_set(s, mapped, &s->pages[0]);
  counters.huge.fetch_add(1, std::memory_order_relaxed);
  *zeroed = true;
  return reinterpret_cast<char*>(s) + offset;
}

void huge_free(Segment* s) noexcept {
  counters.huge.fetch_sub(1, std::memory_order_relaxed);
  if (s->mapped_size == kSegmentSize) {
    give_segment(s);
  } else {
    map_set(s, s->mapped_size, nullptr);
    unmap_segment(s);
  }
}

bool owns(const void* p) noexcept {
  auto i = reinterpret_cast<std::uintptr_t>(p) >> kSliceShift;
  Page** map = __atomic_load_n(&g_page_map, __ATOMIC_ACQUIRE);
  if (i == 0 || i >= kMapEntries || map == g_boot_map) return false;
  return __atomic_load_n(&map[i], __ATOMIC_ACQUIRE) != nullptr;
}

void trim_cache() noexcept {
  for (;;) {
    Segment* s = nullptr;
    pthread_mutex_lock(&g_cache_lock);
    if (g_cache_count > 0) s = g_cache[--g_cache_count];
    pthread_mutex_unlock(&g_cache_lock);
    if (s == nullptr) return;
    unmap_segment(s);
  }
}

void fork_prepare() noexcept {
  pthread_mutex_lock(&g_cache_lock);
}
void fork_parent() noexcept {
  pthread_mutex_unlock(&g_cache_lock);
}
void fork_child() noexcept {
  pthread_mutex_init(&g_cache_lock, nullptr);
}

}  // namespace fastpool::segment
