// GrowingPool: growth by strategy, up to and not beyond max_capacity.
#include <doctest/doctest.h>

#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

#include "fastpool/fastpool.hpp"

using namespace fastpool;

namespace {
std::vector<std::size_t> capacities_while_filling(GrowingPool<int>& pool, std::size_t n) {
  std::vector<std::size_t> seen{pool.capacity()};
  std::vector<int*> held;
  for (std::size_t i = 0; i < n; ++i) {
    held.push_back(pool.create(static_cast<int>(i)));
    if (pool.capacity() != seen.back()) seen.push_back(pool.capacity());
  }
  for (int* p : held) pool.destroy(p);
  return seen;
}
}  // namespace

TEST_CASE("growing: linear growth adds n slots") {
  GrowingPool<int> pool(
      PoolConfig<int>::builder().capacity(4).growth(GrowthStrategy::linear(3)).build());
  CHECK(capacities_while_filling(pool, 12) == std::vector<std::size_t>{4, 7, 10, 13});
  CHECK(pool.statistics().growth_count == 3);
  CHECK(pool.chunk_count() == 4);
}

TEST_CASE("growing: exponential growth") {
  GrowingPool<int> pool(
      PoolConfig<int>::builder().capacity(2).growth(GrowthStrategy::exponential(1.5)).build());
  // 2 -> max(3, 3) = 3 -> ceil(4.5) = 5 -> ceil(7.5) = 8
  CHECK(capacities_while_filling(pool, 8) == std::vector<std::size_t>{2, 3, 5, 8});
}

TEST_CASE("growing: custom growth, and 0 means no growth") {
  GrowingPool<int> pool(PoolConfig<int>::builder()
                            .capacity(2)
                            .growth(GrowthStrategy::custom(
                                [](std::size_t c) -> std::size_t { return c < 6 ? c : 0; }))
                            .build());
  std::vector<OwnedHandle<int>> held;
  for (int i = 0; i < 8; ++i) held.push_back(pool.allocate(i));
  CHECK(pool.capacity() == 8);
  CHECK_THROWS_AS((void)pool.allocate(0), pool_exhausted);
}

TEST_CASE("growing: up to and not beyond max_capacity, last step clipped") {
  GrowingPool<int> pool(PoolConfig<int>::builder()
                            .capacity(4)
                            .max_capacity(10)
                            .growth(GrowthStrategy::exponential(2.0))
                            .build());
  std::vector<OwnedHandle<int>> held;
  for (int i = 0; i < 10; ++i) held.push_back(pool.allocate(i));
  CHECK(pool.capacity() == 10);  // 4 -> 8 -> 10 (clipped from 16)
  CHECK(pool.max_capacity() == 10);
  CHECK_THROWS_AS((void)pool.allocate(0), pool_exhausted);
  CHECK_FALSE(pool.try_allocate(0));
  CHECK(pool.capacity() == 10);
  held.erase(held.begin());
  CHECK(pool.try_allocate(1));
}

TEST_CASE("growing: releases across chunks, in any order") {
  GrowingPool<int, FreeListStrategy> pool(
      PoolConfig<int>::builder().capacity(1).growth(GrowthStrategy::linear(1)).build());
  std::vector<int*> held;
  for (int i = 0; i < 50; ++i) held.push_back(pool.create(i));
  CHECK(pool.chunk_count() == 50);
  for (std::size_t i = 0; i < held.size(); i += 2) pool.destroy(held[i]);
  for (std::size_t i = 1; i < held.size(); i += 2) pool.destroy(held[i]);
  CHECK(pool.in_use() == 0);
  // all 50 slots are reused before any growth
  for (int i = 0; i < 50; ++i) held[static_cast<std::size_t>(i)] = pool.create(i);
  CHECK(pool.capacity() == 50);
  for (int* p : held) pool.destroy(p);
}

TEST_CASE("growing: a throwing growth function propagates and leaves the pool usable") {
  bool fail = true;
  GrowingPool<int> pool(PoolConfig<int>::builder()
                            .capacity(1)
                            .growth(GrowthStrategy::custom([&](std::size_t) -> std::size_t {
                              if (fail) throw std::runtime_error("no");
                              return 1;
                            }))
                            .build());
  auto a = pool.allocate(1);
  CHECK_THROWS_AS((void)pool.allocate(2), std::runtime_error);
  fail = false;
  auto b = pool.allocate(2);
  CHECK(pool.capacity() == 2);
}

TEST_CASE("growing: thousands of chunks, each slot's chunk found directly") {
  GrowingPool<std::uint64_t> pool(PoolConfig<std::uint64_t>::builder()
                                      .capacity(100)
                                      .growth(GrowthStrategy::linear(100))
                                      .build());
  std::vector<std::uint64_t*> held;
  for (std::uint64_t i = 0; i < 300000; ++i) held.push_back(pool.create(i));
  CHECK(pool.chunk_count() == 3000);
  // Oldest first: every release goes to a chunk other than the current one.
  for (std::size_t i = 0; i < held.size(); ++i) {
    REQUIRE(*held[i] == i);
    CHECK(pool.owns(held[i]));
    pool.destroy(held[i]);
  }
  CHECK(pool.in_use() == 0);
  int local = 0;
  CHECK_FALSE(pool.owns(reinterpret_cast<std::uint64_t*>(&local)));
  GrowingPool<std::uint64_t> other(4);
  auto h = other.allocate(1);
  CHECK_FALSE(pool.owns(h.get()));
}

TEST_CASE("growing: shrink_to_fit gives empty chunks back, never the first") {
  GrowingPool<int> pool(
      PoolConfig<int>::builder().capacity(10).growth(GrowthStrategy::linear(10)).build());
  std::vector<int*> held;
  for (int i = 0; i < 45; ++i) held.push_back(pool.create(i));
  CHECK(pool.capacity() == 50);
  CHECK(pool.shrink_to_fit() == 0);                             // every chunk holds an object
  for (std::size_t i = 10; i < 40; ++i) pool.destroy(held[i]);  // chunks 2..4 empty
  CHECK(pool.shrink_to_fit() == 30);
  CHECK(pool.capacity() == 20);
  CHECK(pool.chunk_count() == 2);
  for (std::size_t i = 40; i < 45; ++i) CHECK(*held[i] == static_cast<int>(i));
  for (std::size_t i = 40; i < 45; ++i) pool.destroy(held[i]);
  for (std::size_t i = 0; i < 10; ++i) pool.destroy(held[i]);
  CHECK(pool.shrink_to_fit() == 10);
  CHECK(pool.capacity() == 10);
  int* last = pool.create(7);  // the first chunk still serves
  CHECK(last != nullptr);
  pool.destroy(last);
}

TEST_CASE("growing: a grown ThreadSafePool gives every empty grown chunk back") {
  ThreadSafePool<long> pool(
      PoolConfig<long>::builder().capacity(4).growth(GrowthStrategy::linear(4)).build());
  std::vector<long*> held;
  for (long i = 0; i < 12; ++i) held.push_back(pool.create(i));
  CHECK(pool.capacity() == 12);
  for (long* p : held) pool.destroy(p);  // the last one waits in this thread's cache
  std::thread([&] { pool.destroy(pool.create(99)); }).join();  // and one in an exited one's
  CHECK(pool.in_use() == 0);
  CHECK(pool.shrink_to_fit() == 8);
  CHECK(pool.capacity() == 4);
  std::vector<long*> again;
  for (long i = 0; i < 12; ++i) again.push_back(pool.create(i));  // grows anew
  CHECK(pool.capacity() == 12);
  for (long* p : again) pool.destroy(p);
}

TEST_CASE("growing: owns() and lookups never read past a small foreign block") {
  GrowingPool<long> pool(4);
  std::vector<void*> blocks;
  // Enough 8-byte blocks to reach the end of a segment, where a header read would fault.
  for (int i = 0; i < 600000; ++i) {
    void* b = fp_malloc(8);
    CHECK_FALSE(pool.owns(static_cast<long*>(b)));
    blocks.push_back(b);
  }
  for (void* b : blocks) fp_free(b);
}

TEST_CASE("growing: shrink_when_empty keeps one empty chunk, gives back the next") {
  GrowingPool<int> pool(PoolConfig<int>::builder()
                            .capacity(4)
                            .growth(GrowthStrategy::linear(4))
                            .shrink_when_empty(true)
                            .build());
  std::vector<int*> held;
  for (int i = 0; i < 16; ++i) held.push_back(pool.create(i));
  CHECK(pool.chunk_count() == 4);
  for (std::size_t i = 4; i < 8; ++i) pool.destroy(held[i]);  // chunk 2 empty: kept
  CHECK(pool.chunk_count() == 4);
  for (std::size_t i = 8; i < 12; ++i) pool.destroy(held[i]);  // chunk 3 empty: given back
  CHECK(pool.chunk_count() == 3);
  // Swinging across the boundary reuses the kept chunk: no growth, no give-back.
  std::size_t growths = pool.statistics().growth_count;
  for (int round = 0; round < 100; ++round) {
    int* a = pool.create(1);
    pool.destroy(a);
  }
  CHECK(pool.statistics().growth_count == growths);
  for (std::size_t i = 0; i < 4; ++i) pool.destroy(held[i]);
  for (std::size_t i = 12; i < 16; ++i) pool.destroy(held[i]);
  CHECK(pool.in_use() == 0);
}
