// Statistics: fp_stats merged from the heaps' and the segment layer's counters on read,
// the report (FASTPOOL_SHOW_STATS at exit, fp_print_stats, malloc_stats) and the
// registry of live typed pools that the report lists beside the global heap.
#include "api/stats.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include "api/front.hpp"
#include "fastpool/detail/pool_registry.hpp"
#include "os/options.hpp"
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

// --- typed pools
pthread_mutex_t g_pools_lock = PTHREAD_MUTEX_INITIALIZER;
detail::PoolRecord* g_pools = nullptr;  // newest first; guarded by g_pools_lock

// Pools destroyed while FASTPOOL_SHOW_STATS is on: their last figures, for the report.
struct RetiredPool {
  char type[96];
  std::size_t object_size;
  PoolStatistics stats;
};
constexpr int kRetiredMax = 64;
RetiredPool g_retired[kRetiredMax];  // guarded by g_pools_lock
int g_retired_count = 0;
std::size_t g_retired_dropped = 0;

// --- the report, one line at a time on stderr (snprintf formats without allocating)
template <class... A>
void line(const char* format, A... args) noexcept {
  char buf[256];
  std::snprintf(buf, sizeof buf, format, args...);
  os::write_stderr(buf);
}

double mib(std::size_t bytes) noexcept {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

void pool_line(const char* type, int type_length, std::size_t object_size, const PoolStatistics& s,
               const char* state) noexcept {
  line("  %-40.*s %6zu %9zu %9zu %9zu %11zu %8zu %7zu  %s\n", type_length, type, object_size,
       s.capacity, s.in_use, s.peak_usage, s.total_allocations, s.allocation_failures,
       s.growth_count, state);
}

void report_pools() noexcept {
  pthread_mutex_lock(&g_pools_lock);
  if (g_pools == nullptr && g_retired_count == 0) {
    pthread_mutex_unlock(&g_pools_lock);
    return;
  }
  line("typed pools\n  %-40s %6s %9s %9s %9s %11s %8s %7s\n", "pool", "object", "capacity",
       "in use", "peak", "allocations", "failures", "growths");
  for (detail::PoolRecord* r = g_pools; r != nullptr; r = r->next)
    pool_line(r->type, static_cast<int>(r->type_length), r->object_size, r->read(r->pool), "live");
  for (int i = 0; i < g_retired_count; ++i)
    pool_line(g_retired[i].type, static_cast<int>(sizeof g_retired[i].type),
              g_retired[i].object_size, g_retired[i].stats, "destroyed");
  if (g_retired_dropped != 0) line("  (%zu more destroyed pools not kept)\n", g_retired_dropped);
  pthread_mutex_unlock(&g_pools_lock);
}

// FASTPOOL_SHOW_STATS=1: the report at exit.
__attribute__((destructor)) void report_at_exit() {
  if (option(Option::show_stats) != 0) print_stats();
}

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
  s.heaps_abandoned = heap::abandoned_count();
  std::size_t heaps = heap::heap_count();
  s.heaps_live = heaps > s.heaps_abandoned ? heaps - s.heaps_abandoned : 0;
  s.remote_frees_sent = heap::remote_sent();
  s.trims = heap::trim_count();
}

void print_stats() noexcept {
  fp_stats s;
  read_stats(s);
  line("fastpool statistics (pid %d)\n", static_cast<int>(getpid()));
  line("  blocks in use     %12zu   (%zu large, %zu huge)\n", s.blocks_in_use, s.large_blocks,
       s.huge_blocks);
  line("  bytes allocated   %12.1f MiB", mib(s.bytes_allocated));
  if (s.bytes_requested != 0) line("   (requested %.1f MiB)", mib(s.bytes_requested));
  line("\n  mapped            %12.1f MiB   (%zu segments; cached %.1f MiB)\n", mib(s.bytes_mapped),
       s.segments, mib(s.bytes_cached));
  line("  given back        %12.1f MiB   (%zu purges, %zu trims)\n", mib(s.bytes_purged), s.purges,
       s.trims);
  line("  metadata          %12.1f MiB\n", mib(s.bytes_metadata));
  line("  process resident  %12.1f MiB   (peak %.1f MiB)\n", mib(s.bytes_resident),
       mib(s.peak_resident));
  line("  heaps             %12zu live, %zu abandoned\n", s.heaps_live, s.heaps_abandoned);
  line("  remote frees      %12zu sent, %zu collected\n", s.remote_frees_sent,
       s.remote_frees_collected);
  line("size classes (those with pages)\n  %6s %6s %10s %10s %6s %6s\n", "class", "block", "in use",
       "bytes", "pages", "full");
  for (std::size_t c = 0; c < s.class_count; ++c) {
    const fp_class_stats& k = s.classes[c];
    if (k.pages == 0 && k.blocks_in_use == 0) continue;
    line("  %6zu %6zu %10zu %10zu %6zu %6zu\n", c, k.block_size, k.blocks_in_use,
         k.blocks_in_use * k.block_size, k.pages, k.pages_full);
  }
  report_pools();
}

namespace detail {

void register_pool(PoolRecord* r) noexcept {
  pthread_mutex_lock(&g_pools_lock);
  r->prev = nullptr;
  r->next = g_pools;
  if (g_pools != nullptr) g_pools->prev = r;
  g_pools = r;
  pthread_mutex_unlock(&g_pools_lock);
}

void unregister_pool(PoolRecord* r) noexcept {
  bool keep = option(Option::show_stats) != 0;
  pthread_mutex_lock(&g_pools_lock);
  if (r->prev != nullptr)
    r->prev->next = r->next;
  else
    g_pools = r->next;
  if (r->next != nullptr) r->next->prev = r->prev;
  if (keep && g_retired_count == kRetiredMax) ++g_retired_dropped;
  if (keep && g_retired_count < kRetiredMax) {
    RetiredPool& d = g_retired[g_retired_count++];
    std::size_t n = r->type_length < sizeof d.type - 1 ? r->type_length : sizeof d.type - 1;
    __builtin_memcpy(d.type, r->type, n);
    d.type[n] = '\0';
    d.object_size = r->object_size;
    d.stats = r->read(r->pool);
  }
  pthread_mutex_unlock(&g_pools_lock);
}

}  // namespace detail
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

FP_EXPORT void fp_print_stats(void) noexcept {
  print_stats();
}

}  // extern "C"
