// Statistics: fp_stats merged on read from the heaps' counters (router/heap.hpp) and the
// segment layer's, with other threads' current pages observed where that is safe.
#include "api/stats.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "api/front.hpp"
#include "os/os.hpp"
#include "segment/huge.hpp"
#include "segment/meta.hpp"

namespace fastpool {
namespace {

static_assert(kClassCount <= FP_STATS_MAX_CLASSES);

std::size_t positive(std::int64_t v) noexcept {
  return v > 0 ? static_cast<std::size_t>(v) : 0;
}

// The process's resident set from /proc/self/statm (second field, in pages); read with
// plain system calls, so a report can run where allocating could not.
std::size_t resident_bytes() noexcept {
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[128];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* c = buf;
  while (*c != ' ' && *c != '\0') ++c;
  std::size_t pages = 0;
  for (++c; *c >= '0' && *c <= '9'; ++c) pages = pages * 10 + static_cast<std::size_t>(*c - '0');
  return pages * os::page_size();
}

// What read_stats sums over the heaps, signed: a current page's observed count may be
// below what was accounted for it.
struct HeapSums {
  std::int64_t used[kClassCount];
  std::int64_t pages[kClassCount];
  std::int64_t pages_full[kClassCount];
  std::uint64_t remote_collected;
};

void add_heap(Heap* h, void* arg) noexcept {
  auto* sums = static_cast<HeapSums*>(arg);
  for (int c = 0; c < kClassCount; ++c) {
    const HeapStats::Class& k = h->stats.classes[c];
    sums->used[c] += k.used.load(std::memory_order_relaxed);
    sums->pages[c] += k.pages.load(std::memory_order_relaxed);
    sums->pages_full[c] += k.pages_full.load(std::memory_order_relaxed);
  }
  sums->remote_collected += h->stats.remote_collected.load(std::memory_order_relaxed);
}

#ifndef FASTPOOL_SECURE  // see read_stats
// Another running thread's current page: its blocks out as observed now (its free list
// walked from here, reading only inside the page's segment), minus what its heap has
// accounted for it. Exact while the owner is idle, approximate while it allocates.
std::int64_t observed_change(const Page* pg) noexcept {
  const auto& pool = pg->pool;
  std::size_t bs = pool.block_size();
  if (bs == 0) return 0;
  auto* seg = reinterpret_cast<const char*>(segment_of(pg));
  const char* lo = pool.start();
  const char* hi = lo + pool.touched_bytes();
  if (lo < seg) lo = seg;
  if (hi > seg + kSegmentSize) hi = seg + kSegmentSize;
  if (hi <= lo) return 0;
  auto carved = static_cast<std::int64_t>(pool.touched_bytes() / bs);
  auto free = static_cast<std::int64_t>(pool.free_list().count_observed(lo, hi, pool.capacity()));
  return carved - free - static_cast<std::int64_t>(pg->accounted);
}

// Another running thread's counted pages under its own word: the frees its fast path
// counted in pool.used() alone since the page was last accounted (HeapStats). Read
// through its segments under its span lock, which keeps every page (and segment) where
// it is. Not under segment::with_segments_held: span locks come first.
void add_counted_lag(Heap* h, void* arg) noexcept {
  if (h == tls_heap) return;  // exact already (heap::account_current)
  auto* sums = static_cast<HeapSums*>(arg);
  auto released = reinterpret_cast<std::uintptr_t>(h) | kOwnerCounted;
  h->spans.lock.lock();
  for (auto& bin : h->spans.bins)
    bin.for_each([&](Segment* s) {
      for (int i = 1; i < kSlicesPerSegment;) {
        const Page& pg = s->pages[i];
        if ((s->free_slices >> i) & 1) {
          ++i;
          continue;
        }
        auto owner = pg.owner.load(std::memory_order_relaxed);
        if (pg.kind == PageKind::small && pg.heap == h && pg.size_class < kClassCount &&
            (owner & kOwnerFlags) == kOwnerCounted && owner != released)
          sums->used[pg.size_class] += static_cast<std::int64_t>(pg.pool.used_observed()) -
                                       __atomic_load_n(&pg.accounted, __ATOMIC_RELAXED);
        i += pg.slice_count > 0 ? pg.slice_count : 1;
      }
    });
  h->spans.lock.unlock();
}

void add_observed_current(Heap* h, void* arg) noexcept {
  if (h == tls_heap) return;  // exact already (heap::account_current)
  auto* sums = static_cast<HeapSums*>(arg);
  for (int c = 0; c < kClassCount; ++c) {
    const Page* pg = __atomic_load_n(&h->current[c], __ATOMIC_RELAXED);
    if (pg == &g_empty_page || pg->kind != PageKind::small ||
        !is_current_word(pg->owner.load(std::memory_order_relaxed)))
      continue;
    sums->used[pg->size_class] += observed_change(pg);
  }
}
#endif

}  // namespace

void read_stats(fp_stats& s) noexcept {
  s = fp_stats{};
  s.version = FP_STATS_VERSION;
  s.size = sizeof(fp_stats);
  s.class_count = kClassCount;
  for (int c = 0; c < kClassCount; ++c) s.classes[c].block_size = class_size(c);
  if (tls_heap != &g_empty_heap) heap::account_current(tls_heap);
  HeapSums sums{};
  heap::for_each_heap(add_heap, &sums);
#ifndef FASTPOOL_SECURE  // hardened builds seal freed spans: no other thread's page is read
  // Every segment stays mapped meanwhile, so the walk only ever reads mapped memory.
  segment::with_segments_held([](void* arg) { heap::for_each_heap(add_observed_current, arg); },
                              &sums);
  heap::for_each_heap(add_counted_lag, &sums);
#endif
  std::size_t small_bytes = 0;
  for (int c = 0; c < kClassCount; ++c) {
    fp_class_stats& k = s.classes[c];
    k.blocks_in_use = positive(sums.used[c]);
    k.pages = positive(sums.pages[c]);
    k.pages_full = positive(sums.pages_full[c]);
    s.blocks_in_use += k.blocks_in_use;
    small_bytes += k.blocks_in_use * k.block_size;
  }
  s.remote_frees_collected = sums.remote_collected;
  s.segments = segment::counters.segments.load(std::memory_order_relaxed);
  s.bytes_mapped = segment::counters.bytes_mapped.load(std::memory_order_relaxed);
  std::size_t huge_cached = huge::cached_bytes();
  s.bytes_cached = segment::cached_bytes() + huge_cached;
  // Huge blocks: whatever is mapped beyond the segments and the cached huge mappings.
  std::size_t in_segments = s.segments * kSegmentSize + huge_cached;
  s.huge_bytes = s.bytes_mapped > in_segments ? s.bytes_mapped - in_segments : 0;
  s.large_blocks = g_large.blocks.load(std::memory_order_relaxed);
  s.large_bytes = g_large.bytes.load(std::memory_order_relaxed);
  s.huge_blocks = huge::live_count();
  s.blocks_in_use += s.large_blocks + s.huge_blocks;
  s.bytes_allocated = small_bytes + s.large_bytes + s.huge_bytes;
#ifdef FASTPOOL_SECURE
  s.bytes_requested = secure::requested_bytes();
#endif
  s.bytes_purged = segment::counters.released.load(std::memory_order_relaxed);
  s.purges = segment::counters.purges.load(std::memory_order_relaxed);
  s.bytes_metadata = meta::bytes_mapped() + page_map::leaf_bytes();
  s.bytes_resident = resident_bytes();
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    s.peak_resident = static_cast<std::size_t>(ru.ru_maxrss) * 1024;
  if (s.peak_resident < s.bytes_resident) s.peak_resident = s.bytes_resident;  // lags otherwise
  s.heaps_abandoned = heap::abandoned_count();
  std::size_t heaps = heap::heap_count();
  s.heaps_live = heaps > s.heaps_abandoned ? heaps - s.heaps_abandoned : 0;
  // The calling thread's batch counts as sent: its blocks have left the thread.
  s.remote_frees_sent = heap::remote_sent() + (tls_remote.to != nullptr ? tls_remote.count : 0);
  s.trims = heap::trim_count();
}

}  // namespace fastpool

using namespace fastpool;

extern "C" {

FP_EXPORT size_t fp_stats_read(fp_stats* out, size_t size) noexcept {
  fp_stats s;
  read_stats(s);
  std::size_t n = size < sizeof s ? size : sizeof s;
  s.size = static_cast<unsigned>(n);
  __builtin_memcpy(out, &s, n);
  return n;
}

}  // extern "C"
