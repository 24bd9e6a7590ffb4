// GrowingPool: growth by strategy, up to and not beyond max_capacity.
#include <doctest/doctest.h>

#include <stdexcept>
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
