// Typed pools against new/delete, side by side. Run it under each malloc (glibc, and
// LD_PRELOAD of jemalloc, mimalloc, tcmalloc) to compare with the best of them; the pools
// never call malloc on these paths, so their figures do not depend on the preload.
// scripts/typed_speed.sh does that and prints the ratios.
#include <benchmark/benchmark.h>

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

void BM_FixedPool_FreeList(benchmark::State& state) {
  fastpool::FixedPool<Obj64, fastpool::FreeListStrategy> pool(1024);
  handle_pairs(state, pool);
}
BENCHMARK(BM_FixedPool_FreeList);

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

// Shared pools: one pool for all benchmark threads; Threads(1) is the uncontended case.
fastpool::ThreadSafePool<Obj64>& thread_safe_pool() {
  static fastpool::ThreadSafePool<Obj64> pool(4096);
  return pool;
}
fastpool::LockFreePool<Obj64>& lock_free_pool() {
  static fastpool::LockFreePool<Obj64> pool(4096);
  return pool;
}

void BM_ThreadSafePool(benchmark::State& state) {
  handle_pairs(state, thread_safe_pool());
}
BENCHMARK(BM_ThreadSafePool)->Threads(1)->Threads(2)->UseRealTime();

void BM_LockFreePool(benchmark::State& state) {
  handle_pairs(state, lock_free_pool());
}
BENCHMARK(BM_LockFreePool)->Threads(1)->Threads(2)->UseRealTime();

// Contended: each iteration takes 8 objects and returns them, so 7 of 8 operations
// miss the per-thread cache and go to the shared structure (the lock, or the lock-free
// list). With 2 threads this is where a lock and a lock-free list differ; the pair
// benchmarks above are served by the per-thread caches.
template <class Pool>
void shared_burst8(benchmark::State& state, Pool& pool) {
  typename Pool::handle held[8];
  std::uint64_t i = 0;
  for (auto _ : state) {
    for (auto& h : held) {
      h = pool.allocate(++i);
      escape(h.get());
    }
    for (auto& h : held) h.reset();
  }
  state.SetItemsProcessed(state.iterations() * 8);
}
void BM_Burst8_ThreadSafePool(benchmark::State& state) {
  static fastpool::ThreadSafePool<Obj64> pool(4096);
  shared_burst8(state, pool);
}
BENCHMARK(BM_Burst8_ThreadSafePool)->Threads(1)->Threads(2)->UseRealTime();
void BM_Burst8_LockFreePool(benchmark::State& state) {
  static fastpool::LockFreePool<Obj64> pool(4096);
  shared_burst8(state, pool);
}
BENCHMARK(BM_Burst8_LockFreePool)->Threads(1)->Threads(2)->UseRealTime();

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
