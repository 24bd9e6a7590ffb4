// The statistics report (FASTPOOL_SHOW_STATS at exit, fp_print_stats, malloc_stats) and
// the registry of typed pools it lists beside the global heap.
#include <pthread.h>
#include <unistd.h>

#include <cstdio>

#include "api/alloc.hpp"
#include "api/stats.hpp"
#include "fastpool/detail/pool_registry.hpp"
#include "os/options.hpp"
#include "os/os.hpp"

namespace fastpool {
namespace {

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
constinit RetiredPool g_retired[kRetiredMax]{};  // guarded by g_pools_lock (no initialiser runs)
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

}  // namespace

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

FP_EXPORT void fp_print_stats(void) noexcept {
  print_stats();
}

}  // extern "C"
