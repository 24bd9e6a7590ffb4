// Memory overhead of the typed pools, measured: the engine bytes a pool takes (fp_stats:
// usable bytes of live blocks, before and after construction) for n slots, at two n, so
// that per-slot bytes = slope - sizeof(T) and per-pool bytes = sizeof(pool) + what is
// left at the smaller n. Caller storage: required_bytes(n) / n. Prints a Markdown table
// (scripts/typed_speed.sh; the README's overhead table is its output).
#include <cstdint>
#include <cstdio>
#include <memory>

#include "fastpool/fastpool.hpp"
#include "obj64.hpp"

namespace {
std::size_t engine_bytes() {
  fp_stats s{};
  fp_stats_read(&s, sizeof s);
  return s.bytes_allocated;
}

template <class Pool>
std::size_t bytes_for(std::size_t n) {
  fp_collect();  // so that no cached mapping of an earlier pool, larger than asked, is reused
  std::size_t before = engine_bytes();
  auto pool = std::make_unique<Pool>(n);  // its own object is counted by sizeof below
  std::size_t after = engine_bytes();
  std::size_t object = fp_usable_size(pool.get());
  return after - before - object;
}

template <class Pool>
void row(const char* name, const char* type, const char* strategy = "") {
  using T = typename Pool::value_type;
  constexpr std::size_t small = 1000, large = 1001000;
  std::size_t a = bytes_for<Pool>(small), b = bytes_for<Pool>(large);
  double per_slot = static_cast<double>(b - a) / (large - small) - static_cast<double>(sizeof(T));
  double fixed = static_cast<double>(sizeof(Pool)) + static_cast<double>(a) -
                 (per_slot + static_cast<double>(sizeof(T))) * small;
  std::printf("| `%s<%s%s>` | %zu | %.2f | %.0f |", name, type, strategy, sizeof(T), per_slot,
              fixed);
  if constexpr (requires { Pool::required_bytes(large); })
    std::printf(" %.2f |\n", static_cast<double>(Pool::required_bytes(large)) / large -
                                 static_cast<double>(sizeof(T)));
  else
    std::printf(" — |\n");
}

template <class T>
void rows(const char* type) {
  using namespace fastpool;
  row<FixedPool<T>>("FixedPool", type);
  row<FixedPool<T, StackStrategy>>("FixedPool", type, ", StackStrategy");
  row<FixedPool<T, BitmapStrategy>>("FixedPool", type, ", BitmapStrategy");
  row<GrowingPool<T>>("GrowingPool", type);
  row<ThreadLocalPool<T>>("ThreadLocalPool", type);
  row<ThreadSafePool<T>>("ThreadSafePool", type);
  row<LockFreePool<T>>("LockFreePool", type);
}
}  // namespace

int main() {
  std::puts(
      "| pool | sizeof(T) | bytes per slot beyond T | bytes per pool | caller storage: bytes per "
      "slot beyond T |");
  std::puts("|---|---|---|---|---|");
  rows<std::uint64_t>("uint64_t");
  rows<int>("int");
  rows<Obj64>("Obj64");
}
