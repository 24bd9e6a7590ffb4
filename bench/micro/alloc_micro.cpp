// Micro benchmarks of the C and C++ allocation calls. Linked against nothing allocator-specific:
// the harness runs this one binary under each allocator's LD_PRELOAD.
// FASTPOOL_BENCH_MIN_TIME (seconds, default 0.2) sets each case's minimum run time, so the
// --quick run can shorten it without depending on the flag syntax of a Google Benchmark version.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace {

// Pre-drawn so the random cases time the allocator, not the generator.
std::vector<std::uint32_t> random_table(std::size_t n, std::uint32_t lo, std::uint32_t hi) {
  std::vector<std::uint32_t> out(n);
  std::uint64_t x = 88172645463325252ULL;
  for (auto& v : out) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    v = lo + static_cast<std::uint32_t>(x % (hi - lo + 1));
  }
  return out;
}

void malloc_free_pair(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    void* p = std::malloc(size);
    benchmark::DoNotOptimize(p);
    std::free(p);
  }
}

void batch_1000(benchmark::State& state) {
  std::vector<void*> blocks(1000);
  for (auto _ : state) {
    for (auto& p : blocks) benchmark::DoNotOptimize(p = std::malloc(64));
    for (void* p : blocks) std::free(p);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}

// A live set of 1000 random-size blocks; each step frees a random one and allocates a new one,
// so lifetimes are random too.
void random_lifetimes(benchmark::State& state) {
  constexpr std::size_t kLive = 1000, kSteps = 1 << 16;
  const auto sizes = random_table(kSteps, 8, 1024);
  const auto slots = random_table(kSteps, 0, kLive - 1);
  std::vector<void*> live(kLive);
  for (std::size_t i = 0; i < kLive; ++i) live[i] = std::malloc(sizes[i]);
  std::size_t step = 0;
  for (auto _ : state) {
    void*& slot = live[slots[step]];
    std::free(slot);
    benchmark::DoNotOptimize(slot = std::malloc(sizes[step]));
    step = (step + 1) % kSteps;
  }
  for (void* p : live) std::free(p);
}

// One iteration grows a block from 16 B to 1 MiB in 25% steps, touching the new tail each time.
void realloc_growth(benchmark::State& state) {
  for (auto _ : state) {
    std::size_t size = 16;
    auto* p = static_cast<char*>(std::malloc(size));
    while (size < (1u << 20)) {
      size += size / 4;
      p = static_cast<char*>(std::realloc(p, size));
      p[size - 1] = 1;
    }
    benchmark::DoNotOptimize(p);
    std::free(p);
  }
}

struct Small {
  std::uint64_t a, b, c;
};

void new_delete_small(benchmark::State& state) {
  for (auto _ : state) {
    Small* s = new Small{1, 2, 3};
    benchmark::DoNotOptimize(s);
    delete s;
  }
}

void aligned_alloc_64(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    void* p = std::aligned_alloc(64, size);
    benchmark::DoNotOptimize(p);
    std::free(p);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* env = std::getenv("FASTPOOL_BENCH_MIN_TIME");
  const double min_time = env ? std::atof(env) : 0.2;
  auto add = [&](const char* name, void (*fn)(benchmark::State&)) {
    return benchmark::RegisterBenchmark(name, fn)->MinTime(min_time);
  };
  for (int size : {16, 64, 256, 1024, 8192}) add("malloc_free", malloc_free_pair)->Arg(size);
  add("malloc_1000_then_free_1000", batch_1000);
  add("random_size_lifetime", random_lifetimes);
  add("realloc_16B_to_1MiB", realloc_growth);
  add("new_delete_small", new_delete_small);
  add("aligned_alloc_64", aligned_alloc_64)->Arg(64)->Arg(1024);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
