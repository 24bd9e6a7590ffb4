// Typed pools against new/delete, side by side. Run it under each malloc (glibc, and
// LD_PRELOAD of jemalloc, mimalloc, tcmalloc) to compare with the best of them; the pools
// never call malloc on these paths, so their figures do not depend on the preload.
// scripts/typed_speed.sh does that and prints the ratios.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory_resource>
#include <vector>

#include "fastpool/fastpool.hpp"
#include "obj64.hpp"

namespace {

void BM_NewDelete(benchmark::State& state) {
  std::uint64_t i = 0;
  for (auto _ : state) {
    Obj64* p = new Obj64(++i);
    escape(p);
    delete p;
  }
}
BENCHMARK(BM_NewDelete);

template <class Pool>
void handle_pairs(benchmark::State& state, Pool& pool) {
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto h = pool.allocate(++i);
    escape(h.get());
  }
}

void BM_FixedPool(benchmark::State& state) {
  fastpool::FixedPool<Obj64> pool(1024);
  handle_pairs(state, pool);
}
BENCHMARK(BM_FixedPool);

void BM_FixedPool_Raw(benchmark::State& state) {
  fastpool::FixedPool<Obj64> pool(1024);
  std::uint64_t i = 0;
  for (auto _ : state) {
    Obj64* p = pool.create(++i);
    escape(p);
    pool.destroy(p);
  }
}
BENCHMARK(BM_FixedPool_Raw);

void BM_FixedPool_Stack(benchmark::State& state) {
  fastpool::FixedPool<Obj64, fastpool::StackStrategy> pool(1024);
  handle_pairs(state, pool);
}
BENCHMARK(BM_FixedPool_Stack);

void BM_FixedPool_Bitmap(benchmark::State& state) {
  fastpool::FixedPool<Obj64, fastpool::BitmapStrategy> pool(1024);
  handle_pairs(state, pool);
}
BENCHMARK(BM_FixedPool_Bitmap);

void BM_ThreadLocalPool(benchmark::State& state) {
  fastpool::ThreadLocalPool<Obj64> pool(1024);
  handle_pairs(state, pool);
}
BENCHMARK(BM_ThreadLocalPool);

void BM_GrowingPool(benchmark::State& state) {
  fastpool::GrowingPool<Obj64> pool(1024);
  handle_pairs(state, pool);
}
BENCHMARK(BM_GrowingPool);

// Release into chunks other than the current one, at random, with 1200 chunks: a
// release must find its chunk in O(1) whatever the growth, so linear(100) (1200
// chunks) and exponential(2) (a dozen) cost about the same.
void growing_churn(benchmark::State& state, fastpool::GrowthStrategy growth) {
  constexpr std::size_t kLive = 120000;
  fastpool::GrowingPool<Obj64> pool(
      fastpool::PoolConfig<Obj64>::builder().capacity(100).growth(std::move(growth)).build());
  std::vector<Obj64*> live;
  for (std::size_t i = 0; i < kLive; ++i) live.push_back(pool.create(i));
  std::uint64_t x = 12345, i = 0;
  for (auto _ : state) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    std::size_t k = (x >> 33) % kLive;
    pool.destroy(live[k]);
    live[k] = pool.create(++i);
    escape(live[k]);
  }
  for (Obj64* p : live) pool.destroy(p);
}
void BM_GrowingChurn_Linear100(benchmark::State& state) {
  growing_churn(state, fastpool::GrowthStrategy::linear(100));
}
BENCHMARK(BM_GrowingChurn_Linear100);
void BM_GrowingChurn_Exponential2(benchmark::State& state) {
  growing_churn(state, fastpool::GrowthStrategy::exponential(2));
}
BENCHMARK(BM_GrowingChurn_Exponential2);

// A frame: 64 objects of 32 bytes bump-allocated, then all given back at once; FrameArena
// against std::pmr::monotonic_buffer_resource over the same buffer (the standard's
// monotonic allocator). One iteration is one frame.
struct Particle {
  float x, y, vx, vy, life, size, spin, alpha;
};
constexpr int kFrameObjects = 64;
alignas(64) std::byte g_frame_buffer[kFrameObjects * sizeof(Particle) * 2];

void BM_Frame_FrameArena(benchmark::State& state) {
  fastpool::FrameArena arena(g_frame_buffer);
  for (auto _ : state) {
    for (int i = 0; i < kFrameObjects; ++i) escape(arena.create<Particle>());
    arena.reset();
  }
}
BENCHMARK(BM_Frame_FrameArena);

void BM_Frame_PmrMonotonic(benchmark::State& state) {
  std::pmr::monotonic_buffer_resource arena(g_frame_buffer, sizeof g_frame_buffer,
                                            std::pmr::null_memory_resource());
  std::pmr::polymorphic_allocator<Particle> alloc(&arena);
  for (auto _ : state) {
    for (int i = 0; i < kFrameObjects; ++i) {
      Particle* p = alloc.allocate(1);
      alloc.construct(p);
      escape(p);
    }
    arena.release();
  }
}
BENCHMARK(BM_Frame_PmrMonotonic);

// Shared pools: one pool for all benchmark threads; Threads(1) is the uncontended case.
fastpool::ThreadSafePool<Obj64>& thread_safe_pool() {
  static fastpool::ThreadSafePool<Obj64> pool(4096);
  return pool;
}
fastpool::LockFreePool<Obj64>& lock_free_pool() {
  static fastpool::LockFreePool<Obj64> pool(4096);
  return pool;
}

// Thread counts for the shared pools: 1 is uncontended, 2 contends on a 2-core machine,
// 8 is oversubscribed (a lock holder may be preempted; a lock-free list never waits).
void shared_threads(benchmark::internal::Benchmark* b) {
  b->Threads(1)->Threads(2)->Threads(8)->UseRealTime();
}

// Pairs: allocate and release one object; served by the per-thread caches of both pools
// (one uncontended exchange per pair), so the two are expected to tie.
void BM_ThreadSafePool(benchmark::State& state) {
  handle_pairs(state, thread_safe_pool());
}
BENCHMARK(BM_ThreadSafePool)->Apply(shared_threads);

void BM_LockFreePool(benchmark::State& state) {
  handle_pairs(state, lock_free_pool());
}
BENCHMARK(BM_LockFreePool)->Apply(shared_threads);

// Bursts: each iteration takes N objects and returns them. ThreadSafePool's one-slot
// cache serves 1 of N allocations, so N-1 take its lock, and so do N-1 releases.
// LockFreePool's cache slot and magazine (12 slots in all) serve Burst8 entirely;
// Burst64 overflows them, so 52 of 64 releases and allocations go to the shared list, in
// chains of 6 (one CAS per chain).
template <class Pool, std::size_t N>
void shared_burst(benchmark::State& state, Pool& pool) {
  typename Pool::handle held[N];
  std::uint64_t i = 0;
  for (auto _ : state) {
    for (auto& h : held) {
      h = pool.allocate(++i);
      escape(h.get());
    }
    for (auto& h : held) h.reset();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(N));
}
void BM_Burst8_ThreadSafePool(benchmark::State& state) {
  static fastpool::ThreadSafePool<Obj64> pool(4096);
  shared_burst<decltype(pool), 8>(state, pool);
}
BENCHMARK(BM_Burst8_ThreadSafePool)->Apply(shared_threads);
void BM_Burst8_LockFreePool(benchmark::State& state) {
  static fastpool::LockFreePool<Obj64> pool(4096);
  shared_burst<decltype(pool), 8>(state, pool);
}
BENCHMARK(BM_Burst8_LockFreePool)->Apply(shared_threads);
void BM_Burst64_ThreadSafePool(benchmark::State& state) {
  static fastpool::ThreadSafePool<Obj64> pool(4096);
  shared_burst<decltype(pool), 64>(state, pool);
}
BENCHMARK(BM_Burst64_ThreadSafePool)->Apply(shared_threads);
void BM_Burst64_LockFreePool(benchmark::State& state) {
  static fastpool::LockFreePool<Obj64> pool(4096);
  shared_burst<decltype(pool), 64>(state, pool);
}
BENCHMARK(BM_Burst64_LockFreePool)->Apply(shared_threads);

// Several objects out at once, released in another order than taken.
template <class Pool>
void burst(benchmark::State& state, Pool& pool) {
  fastpool::OwnedHandle<Obj64> held[32];
  std::uint64_t i = 0;
  for (auto _ : state) {
    for (auto& h : held) h = pool.allocate(++i);
    for (int k = 0; k < 32; k += 2) held[k].reset();
    for (int k = 1; k < 32; k += 2) held[k].reset();
  }
  state.SetItemsProcessed(state.iterations() * 32);
}
void BM_Burst32_FixedPool(benchmark::State& state) {
  fastpool::FixedPool<Obj64> pool(64);
  burst(state, pool);
}
BENCHMARK(BM_Burst32_FixedPool);
void BM_Burst32_NewDelete(benchmark::State& state) {
  Obj64* held[32];
  std::uint64_t i = 0;
  for (auto _ : state) {
    for (auto& p : held) {
      p = new Obj64(++i);
      escape(p);
    }
    for (int k = 0; k < 32; k += 2) delete held[k];
    for (int k = 1; k < 32; k += 2) delete held[k];
  }
  state.SetItemsProcessed(state.iterations() * 32);
}
BENCHMARK(BM_Burst32_NewDelete);

}  // namespace

BENCHMARK_MAIN();
