// Behaviour every pool type shares: allocation, exhaustion, queries, raw create/destroy,
// batches (all or nothing), alignment.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <new>
#include <vector>

#include "fastpool/fastpool.hpp"

using namespace fastpool;

namespace {
struct Item {
  int value;
  explicit Item(int v = 0) : value(v) {}
};
struct Picky {
  static inline int built = 0;
  int value;
  explicit Picky(int v) : value(v) {
    if (v < 0) throw std::runtime_error("negative");
    ++built;
  }
};

// A growing pool that may not grow behaves like a fixed one for these tests.
template <class T>
struct CappedGrowing : GrowingPool<T> {
  explicit CappedGrowing(std::size_t n)
      : GrowingPool<T>(PoolConfig<T>::builder().capacity(n).max_capacity(n).build()) {}
  explicit CappedGrowing(const PoolConfig<T>& c) : GrowingPool<T>(c) {}
};
}  // namespace

#define ALL_POOLS(T)                                                                            \
  FixedPool<T>, FixedPool<T, FreeListStrategy>, FixedPool<T, BitmapStrategy>, CappedGrowing<T>, \
      ThreadLocalPool<T>, ThreadSafePool<T>, LockFreePool<T>

TEST_CASE_TEMPLATE("pool: allocate until exhausted", Pool, ALL_POOLS(Item)) {
  Pool pool(3);
  CHECK(pool.capacity() == 3);
  CHECK(pool.available() == 3);
  std::vector<OwnedHandle<Item>> held;
  for (int i = 0; i < 3; ++i) held.push_back(pool.allocate(i));
  CHECK(pool.in_use() == 3);
  CHECK(pool.available() == 0);
  CHECK_THROWS_AS((void)pool.allocate(9), pool_exhausted);
  CHECK_THROWS_AS((void)pool.allocate(9), std::bad_alloc);
  OwnedHandle<Item> none = pool.try_allocate(9);
  CHECK_FALSE(none);
  CHECK(pool.try_create(1) == nullptr);
  for (int i = 0; i < 3; ++i) CHECK(held[static_cast<std::size_t>(i)]->value == i);
  held.pop_back();
  CHECK(pool.available() == 1);
  auto again = pool.try_allocate(5);
  REQUIRE(again);
  CHECK(again->value == 5);
}

TEST_CASE_TEMPLATE("pool: distinct slots, owns, reuse", Pool, ALL_POOLS(Item)) {
  Pool pool(PoolConfig<Item>::builder().capacity(8).build());
  std::vector<Item*> raw;
  for (int i = 0; i < 8; ++i) raw.push_back(pool.create(i));
  for (std::size_t i = 0; i < raw.size(); ++i) {
    CHECK(pool.owns(raw[i]));
    for (std::size_t j = i + 1; j < raw.size(); ++j) CHECK(raw[i] != raw[j]);
    CHECK(raw[i]->value == static_cast<int>(i));
  }
  Item outside;
  CHECK_FALSE(pool.owns(&outside));
  CHECK_FALSE(pool.owns(nullptr));
  for (Item* p : raw) pool.destroy(p);
  pool.destroy(nullptr);
  CHECK(pool.in_use() == 0);
  Item* p = pool.create(3);
  CHECK(pool.owns(p));
  pool.destroy(p);
}

TEST_CASE_TEMPLATE("pool: batch is all or nothing", Pool, ALL_POOLS(Item)) {
  Pool pool(5);
  std::vector<int> values{1, 2, 3};
  auto batch = pool.allocate_batch(values);
  REQUIRE(batch.size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(batch[static_cast<std::size_t>(i)]->value == i + 1);
  CHECK(pool.in_use() == 3);

  std::array<int, 3> more{7, 8, 9};
  CHECK_THROWS_AS((void)pool.allocate_batch(more), pool_exhausted);
  CHECK(pool.in_use() == 3);  // nothing handed out
  CHECK(pool.available() == 2);
  auto two = pool.allocate_batch(std::array<int, 2>{4, 5});
  CHECK(two.size() == 2);
  CHECK(pool.available() == 0);
}

TEST_CASE_TEMPLATE("pool: a throwing constructor keeps the slot", Pool, ALL_POOLS(Picky)) {
  Pool pool(2);
  CHECK_THROWS_AS((void)pool.allocate(-1), std::runtime_error);
  CHECK(pool.in_use() == 0);
  // batch: the second value throws; the first object is returned, nothing kept
  Picky::built = 0;
  std::vector<int> values{1, -1};
  CHECK_THROWS_AS((void)pool.allocate_batch(values), std::runtime_error);
  CHECK(pool.in_use() == 0);
  auto a = pool.allocate(1);
  auto b = pool.allocate(2);
  CHECK(pool.in_use() == 2);
}

namespace {
struct Small {
  char c;
};
}  // namespace

TEST_CASE_TEMPLATE("pool: slots honour the configured alignment", Pool, ALL_POOLS(Small)) {
  for (std::size_t align : {std::size_t{1}, std::size_t{16}, std::size_t{64}, std::size_t{256}}) {
    Pool pool(PoolConfig<Small>::builder().capacity(5).alignment(align).build());
    std::vector<Small*> objs;
    for (int i = 0; i < 5; ++i) objs.push_back(pool.create());
    for (Small* p : objs) CHECK(reinterpret_cast<std::uintptr_t>(p) % align == 0);
    if (align == 64)  // each object on its own cache line
      for (std::size_t i = 1; i < objs.size(); ++i)
        CHECK(reinterpret_cast<std::uintptr_t>(objs[i]) / 64 !=
              reinterpret_cast<std::uintptr_t>(objs[i - 1]) / 64);
    for (Small* p : objs) pool.destroy(p);
  }
}

namespace {
struct alignas(128) Overaligned {
  int x = 0;
};
}  // namespace

TEST_CASE_TEMPLATE("pool: over-aligned T", Pool, ALL_POOLS(Overaligned)) {
  Pool pool(4);
  auto a = pool.allocate();
  auto b = pool.allocate();
  CHECK(reinterpret_cast<std::uintptr_t>(a.get()) % 128 == 0);
  CHECK(reinterpret_cast<std::uintptr_t>(b.get()) % 128 == 0);
}

TEST_CASE("pool: ThreadLocalPool knows its owner") {
  ThreadLocalPool<int> pool(2);
  CHECK(pool.owned_by_caller());
}
