#include "segment/segment.hpp"

#include <pthread.h>

#include "os/options.hpp"
#include "os/os.hpp"
#include "segment/page_map.hpp"

namespace fastpool::segment {

Counters counters;

namespace {

// Empty segments kept mapped (purged) for reuse, so a thread that frees everything and
// allocates again does not pay for mmap/munmap. Guarded by g_cache_lock. Their page-map
// entries point at the sentinel while cached. Segments are unmapped only under
// g_cache_lock too, so that with_segments_held can keep every mapping in place.
struct Cached {
  Segment* s;
  int fresh_from;  // the header is purged: what of it was opened is kept here
};
constexpr int kCacheMax = 64;
Cached g_cache[kCacheMax];
int g_cache_count = 0;
pthread_mutex_t g_cache_lock = PTHREAD_MUTEX_INITIALIZER;

constexpr std::uint64_t kAllSlices = ~std::uint64_t{0};
constexpr std::uint64_t kHeaderSlice = 1;

// REQUIRES: g_cache_lock held.
void unmap_segment(Segment* s) noexcept {
  counters.segments.fetch_sub(1, std::memory_order_relaxed);
  counters.bytes_mapped.fetch_sub(kSegmentSize, std::memory_order_relaxed);
  os::unmap(s, kSegmentSize);
}

// A segment from the cache, or from the OS with its first `open` slices opened (header
// included); all of it reads as zero. *fresh_from: the first slice not opened yet.
Segment* take_segment(int open, int* fresh_from) noexcept {
  pthread_mutex_lock(&g_cache_lock);
  Cached c = g_cache_count > 0 ? g_cache[--g_cache_count] : Cached{nullptr, open};
  pthread_mutex_unlock(&g_cache_lock);
  *fresh_from = c.fresh_from;
  if (c.s != nullptr) return c.s;
  bool whole = open == kSlicesPerSegment;
  auto* s = static_cast<Segment*>(os::map_aligned(kSegmentSize, kSegmentSize, 0, whole));
  if (s == nullptr) return nullptr;
  if (!whole && !os::protect(s, static_cast<std::size_t>(open) * kSliceSize, true)) {
    os::unmap(s, kSegmentSize);
    return nullptr;
  }
  counters.segments.fetch_add(1, std::memory_order_relaxed);
  counters.bytes_mapped.fetch_add(kSegmentSize, std::memory_order_relaxed);
  return s;
}

// Takes a segment back: purged whole (header too, so that it is as zero as a fresh one)
// and cached, or unmapped (always when not `cacheable`: slices are still sealed).
void give_segment(Segment* s, bool cacheable = true) noexcept {
  std::size_t keep = static_cast<std::size_t>(option(Option::segment_cache));
  if (keep > kCacheMax) keep = kCacheMax;
  int fresh_from = s->fresh_from;
  page_map::clear(s, kSegmentSize);
  os::purge(s, static_cast<std::size_t>(fresh_from) * kSliceSize);
  counters.count_release(kSegmentSize);
  pthread_mutex_lock(&g_cache_lock);
  if (cacheable && static_cast<std::size_t>(g_cache_count) < keep)
    g_cache[g_cache_count++] = {s, fresh_from};
  else
    unmap_segment(s);
  pthread_mutex_unlock(&g_cache_lock);
}

#ifdef FASTPOOL_SECURE
constexpr bool kHardened = true;
#else
constexpr bool kHardened = false;
#endif

// Makes the sealed slices among `m` accessible again, one mprotect per run. False when
// the kernel refuses one (out of commit or mappings): the runs before it are unsealed.
bool unseal(Segment* s, std::uint64_t m) noexcept {
  std::uint64_t d = s->sealed_slices & m;
  while (d != 0) {
    int first = __builtin_ctzll(d);
    std::uint64_t rest = ~(d >> first);
    int len = rest == 0 ? 64 - first : __builtin_ctzll(rest);
    if (!os::protect(slice_start(s, first), static_cast<std::size_t>(len) * kSliceSize, true))
      return false;
    s->sealed_slices &= ~run_mask(first, len);
    d &= ~run_mask(first, len);
  }
  return true;
}

// How far fresh slices are opened for a span ending at `end`: past it by as many as were
// open before, at most 512 KiB, so the open part doubles while it is small and a segment
// costs about ten mprotects at most, while a write running 1 MiB past a heap's used part
// still faults. A large block's span opens the whole segment: sparse big blocks (one page
// touched of each) would otherwise pay an mprotect per block.
constexpr int kMaxAhead = 8;
int open_end(int from, int end, PageKind kind) noexcept {
  if (kind == PageKind::large) return kSlicesPerSegment;
  int ahead = from < kMaxAhead ? from : kMaxAhead;
  int to = end > from + ahead ? end : from + ahead;
  return to < kSlicesPerSegment ? to : kSlicesPerSegment;
}

// Opens the fresh slices a span ending at `end` needs. False when the kernel refuses (out
// of commit): then nothing changed.
bool open_fresh(Segment* s, int end, PageKind kind) noexcept {
  int from = s->fresh_from;
  if (end <= from) return true;
  int to = open_end(from, end, kind);
  if (!os::protect(slice_start(s, from), static_cast<std::size_t>(to - from) * kSliceSize, true))
    return false;
  s->fresh_from = static_cast<std::uint8_t>(to);
  return true;
}

// Points slices [first, first+count) at their own records (free slices' state).
void map_own(Segment* s, int first, int count) noexcept {
  for (int i = first; i < first + count; ++i)
    page_map::set(slice_start(s, i), kSliceSize, &s->pages[i]);
}

}  // namespace

// A segment opened in part is two mappings (its open head, its closed tail), and no
// longer merges with its neighbours: a process of thousands of thread heaps, a segment
// each, would run into vm.max_map_count at half the threads. So past this many segments
// new ones are opened whole at once, as a big heap has little to gain from the rest:
// at most this many segments are ever open in part.
constexpr std::size_t kPartlyOpenSegments = 32;

Segment* acquire(Heap* heap, int first_span, PageKind kind) noexcept {
  int fresh_from = 0;
  bool many = counters.segments.load(std::memory_order_relaxed) >= kPartlyOpenSegments;
  Segment* s =
      take_segment(many ? kSlicesPerSegment : open_end(1, 1 + first_span, kind), &fresh_from);
  if (s == nullptr) return nullptr;
  // The records are not constructed: a Page's initial state is all zero bytes, which a
  // fresh or wholly purged mapping holds already, and only the records of slices in use
  // are ever touched (so a sparse segment keeps its header mostly non-resident).
  s->magic = kSegmentMagic;
  s->heap = heap;
  s->free_slices = kAllSlices & ~kHeaderSlice;
  s->fresh_from = static_cast<std::uint8_t>(fresh_from);
  // The leaves first (the only step that can fail), then one record per slice.
  if (!page_map::set(s, kSegmentSize, &g_empty_page)) {
    give_segment(s);
    return nullptr;
  }
  map_own(s, 0, kSlicesPerSegment);
  return s;
}

void release(Segment* s) noexcept {
  FP_ASSERT(all_free(s));
  give_segment(s, unseal(s, s->sealed_slices));
}

bool all_free(const Segment* s) noexcept {
  return s->free_slices == (kAllSlices & ~kHeaderSlice);
}

int find_free_run(const Segment* s, int count, bool dirty_only) noexcept {
  std::uint64_t f = dirty_only ? s->dirty_slices : s->free_slices;
  if (count == 1) return f == 0 ? -1 : __builtin_ctzll(f);
  // Runs of `count` ones: AND the map with itself shifted, doubling the covered length.
  std::uint64_t runs = f;
  int have = 1;
  while (have < count && runs != 0) {
    int step = have <= count - have ? have : count - have;
    runs &= runs >> step;
    have += step;
  }
  return runs == 0 ? -1 : __builtin_ctzll(runs);
}

int longest_free_run(const Segment* s) noexcept {
  std::uint64_t f = s->free_slices;
  int longest = 0;
  while (f != 0) {  // one step per run of free slices
    int first = __builtin_ctzll(f);
    std::uint64_t rest = ~(f >> first);
    int len = rest == 0 ? 64 - first : __builtin_ctzll(rest);
    if (len > longest) longest = len;
    f &= ~run_mask(first, len);
  }
  return longest;
}

Page* take_span(Segment* s, int first, int count, PageKind kind, bool* zeroed) noexcept {
  std::uint64_t m = run_mask(first, count);
  FP_ASSERT((s->free_slices & m) == m);
  if (!open_fresh(s, first + count, kind) || !unseal(s, m)) return nullptr;
  *zeroed = (s->dirty_slices & m) == 0;
  s->free_slices &= ~m;
  s->dirty_slices &= ~m;
  Page* pg = &s->pages[first];
  if (count > 1) page_map::set(slice_start(s, first + 1), (count - 1) * kSliceSize, pg);
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
  if (!open_fresh(s, first + count, pg->kind) || !unseal(s, more)) return false;
  s->free_slices &= ~more;
  s->dirty_slices &= ~more;
  page_map::set(slice_start(s, first + have), (count - have) * kSliceSize, pg);
  pg->slice_count = static_cast<std::uint8_t>(count);
  return true;
}

void shrink_span(Segment* s, Page* pg, int count) noexcept {
  int first = page_index(s, pg), have = pg->slice_count;
  FP_ASSERT(count >= 1 && count < have);
  map_own(s, first + count, have - count);
  std::uint64_t m = run_mask(first + count, have - count);
  s->free_slices |= m;
  s->dirty_slices |= m;
  pg->slice_count = static_cast<std::uint8_t>(count);
}

void free_span(Segment* s, Page* pg) noexcept {
  int first = page_index(s, pg), count = pg->slice_count;
  // Hardened builds: a freed large block faults on any access until its slices are reused.
  if (kHardened && pg->kind == PageKind::large &&
      os::protect(slice_start(s, first), static_cast<std::size_t>(count) * kSliceSize, false))
    s->sealed_slices |= run_mask(first, count);
  pg->kind = PageKind::unused;
  pg->owner.store(0, std::memory_order_relaxed);
  map_own(s, first + 1, count - 1);
  std::uint64_t m = run_mask(first, count);
  s->free_slices |= m;
  s->dirty_slices |= m;
}

void purge(Segment* s) noexcept {
  purge_slices(s, s->dirty_slices);
}

void purge_slices(Segment* s, std::uint64_t mask) noexcept {
  std::uint64_t d = s->dirty_slices & mask;
  s->dirty_slices &= ~d;
  while (d != 0) {  // one madvise per run of dirty slices
    int first = __builtin_ctzll(d);
    std::uint64_t rest = ~(d >> first);
    int len = rest == 0 ? 64 - first : __builtin_ctzll(rest);
    os::purge(slice_start(s, first), static_cast<std::size_t>(len) * kSliceSize);
    counters.count_release(static_cast<std::size_t>(len) * kSliceSize);
    d &= ~run_mask(first, len);
  }
}

void trim_cache() noexcept {
  pthread_mutex_lock(&g_cache_lock);
  while (g_cache_count > 0) unmap_segment(g_cache[--g_cache_count].s);
  pthread_mutex_unlock(&g_cache_lock);
}

void with_segments_held(void (*f)(void*), void* arg) noexcept {
  pthread_mutex_lock(&g_cache_lock);
  f(arg);
  pthread_mutex_unlock(&g_cache_lock);
}

std::size_t cached_bytes() noexcept {
  pthread_mutex_lock(&g_cache_lock);
  std::size_t n = static_cast<std::size_t>(g_cache_count);
  pthread_mutex_unlock(&g_cache_lock);
  return n * kSegmentSize;
}

pthread_mutex_t& fork_lock() noexcept {
  return g_cache_lock;
}

}  // namespace fastpool::segment
