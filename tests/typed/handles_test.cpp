// OwnedHandle / SharedHandle / WeakHandle lifetimes.
#include <doctest/doctest.h>

#include <compare>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "fastpool/fastpool.hpp"

using namespace fastpool;

namespace {
struct Counted {
  static inline int alive = 0;
  int value;
  explicit Counted(int v = 0) : value(v) { ++alive; }
  ~Counted() { --alive; }
};
}  // namespace

static_assert(!std::is_copy_constructible_v<OwnedHandle<int>>);
static_assert(std::is_nothrow_move_constructible_v<OwnedHandle<int>>);
static_assert(std::is_copy_constructible_v<SharedHandle<int>>);
static_assert(std::is_copy_assignable_v<WeakHandle<int>>);

TEST_CASE("owned: empty, access, move, reset") {
  FixedPool<Counted> pool(4);
  OwnedHandle<Counted> empty;
  CHECK_FALSE(empty);
  CHECK(empty.get() == nullptr);

  auto h = pool.allocate(42);
  REQUIRE(h);
  CHECK(h->value == 42);
  CHECK((*h).value == 42);
  CHECK(h.get()->value == 42);
  CHECK(Counted::alive == 1);
  CHECK(pool.in_use() == 1);

  OwnedHandle<Counted> moved = std::move(h);
  CHECK_FALSE(h);  // NOLINT: moved-from is empty by contract
  CHECK(moved->value == 42);
  CHECK(pool.in_use() == 1);

  auto other = pool.allocate(7);
  moved = std::move(other);  // returns 42's object
  CHECK(pool.in_use() == 1);
  CHECK(moved->value == 7);
  CHECK(Counted::alive == 1);

  moved.reset();
  CHECK_FALSE(moved);
  CHECK(pool.in_use() == 0);
  CHECK(Counted::alive == 0);
  moved.reset();  // no-op
}

TEST_CASE("owned: destruction returns the object") {
  FixedPool<Counted> pool(1);
  {
    auto h = pool.allocate(1);
    CHECK(pool.available() == 0);
  }
  CHECK(pool.available() == 1);
  CHECK(Counted::alive == 0);
}

TEST_CASE("owned: release hands the raw object to destroy") {
  FixedPool<Counted> pool(2);
  auto h = pool.allocate(3);
  Counted* raw = h.release();
  CHECK_FALSE(h);
  CHECK(pool.in_use() == 1);
  pool.destroy(raw);
  CHECK(pool.in_use() == 0);
}

TEST_CASE("shared: copies share; the last one returns the object") {
  FixedPool<Counted> pool(2);
  SharedHandle<Counted> a = pool.allocate_shared(5);
  CHECK(a.use_count() == 1);
  CHECK_FALSE(a.atomic());
  {
    SharedHandle<Counted> b = a;
    CHECK(a.use_count() == 2);
    CHECK(b->value == 5);
    CHECK(b == a);
  }
  CHECK(a.use_count() == 1);
  CHECK(pool.in_use() == 1);
  SharedHandle<Counted> c = std::move(a);
  CHECK_FALSE(a);
  c.reset();
  CHECK(pool.in_use() == 0);
  CHECK(Counted::alive == 0);
}

TEST_CASE("shared: from an owned handle") {
  GrowingPool<Counted> pool(2);
  auto owned = pool.allocate(9);
  SharedHandle<Counted> s = std::move(owned).share();
  CHECK_FALSE(owned);
  CHECK(s->value == 9);
  CHECK(pool.in_use() == 1);
  s = SharedHandle<Counted>();
  CHECK(pool.in_use() == 0);
  CHECK_FALSE(OwnedHandle<Counted>().share());
}

TEST_CASE("weak: lock while alive, expired after the last share") {
  FixedPool<Counted> pool(2);
  WeakHandle<Counted> w0;
  CHECK(w0.expired());
  CHECK_FALSE(w0.lock());

  auto s = pool.allocate_shared(11);
  WeakHandle<Counted> w(s);
  WeakHandle<Counted> w2 = w;
  WeakHandle<Counted> w3;
  w3 = w2;
  CHECK_FALSE(w.expired());
  {
    SharedHandle<Counted> locked = w.lock();
    REQUIRE(locked);
    CHECK(locked->value == 11);
    CHECK(s.use_count() == 2);
  }
  s.reset();
  CHECK(pool.in_use() == 0);  // weak handles do not hold the object
  CHECK(w.expired());
  CHECK(w3.expired());
  CHECK_FALSE(w2.lock());
  // The slot is reused by a new object; old weak handles stay expired.
  auto again = pool.allocate_shared(12);
  CHECK(w.expired());
  CHECK_FALSE(w.lock());
}

TEST_CASE("shared: counts are atomic exactly for shared pools") {
  ThreadSafePool<int> ts(64);
  LockFreePool<int> lf(64);
  FixedPool<int> fx(4);
  CHECK(ts.allocate_shared(1).atomic());
  CHECK(lf.allocate_shared(1).atomic());
  CHECK_FALSE(fx.allocate_shared(1).atomic());

  auto s = ts.allocate_shared(3);
  WeakHandle<int> w(s);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        SharedHandle<int> copy = s;
        SharedHandle<int> locked = w.lock();
        CHECK(*locked == 3);
      }
    });
  for (auto& t : threads) t.join();
  CHECK(s.use_count() == 1);
  s.reset();
  CHECK(ts.in_use() == 0);
  CHECK(w.expired());
}

namespace {
struct Base {
  int id = 0;
};
struct Mixin {
  int pad = 7;
};
// Base is not the first base: a Derived* and its Base* differ, so the way home must cast.
struct Derived : Mixin, Base {
  static inline int alive = 0;
  explicit Derived(int v) {
    id = v;
    ++alive;
  }
  ~Derived() { --alive; }
};
}  // namespace

TEST_CASE("handles compare with nullptr and each other, order and hash by address") {
  FixedPool<int> pool(4);
  OwnedHandle<int, FixedPool<int>> empty;
  CHECK(empty == nullptr);
  auto a = pool.allocate(1);
  auto b = pool.allocate(2);
  CHECK(a != nullptr);
  CHECK(a != b);
  CHECK(((a < b) != (b < a)));
  CHECK((a <=> a) == std::strong_ordering::equal);
  std::unordered_set<OwnedHandle<int, FixedPool<int>>> set;
  int* pa = a.get();
  set.insert(std::move(a));
  CHECK(set.size() == 1);
  CHECK(std::hash<OwnedHandle<int, FixedPool<int>>>{}(*set.begin()) == std::hash<int*>{}(pa));
  SharedHandle<int> s = std::move(b);  // from an OwnedHandle&&, as shared_ptr from unique_ptr
  CHECK(b == nullptr);
  CHECK(s != nullptr);
  CHECK(s.use_count() == 1);
  CHECK(std::hash<SharedHandle<int>>{}(s) == std::hash<int*>{}(s.get()));
  SharedHandle<int> none;
  CHECK(none == nullptr);
  CHECK((none <=> s) == std::compare_three_way{}(none.get(), s.get()));
}

TEST_CASE("a handle converts Derived to Base and T to const T; the object goes home whole") {
  static_assert(std::is_convertible_v<FixedPool<Derived>::handle, OwnedHandle<Base>>);
  static_assert(std::is_convertible_v<FixedPool<int>::handle, OwnedHandle<const int>>);
  static_assert(!std::is_convertible_v<FixedPool<Base>::handle, OwnedHandle<Derived>>);
  FixedPool<Derived> pool(2);
  {
    OwnedHandle<Base> base = pool.allocate(42);
    CHECK(base->id == 42);
    CHECK(pool.in_use() == 1);
    OwnedHandle<const Base> seen = pool.allocate(7);
    CHECK(seen->id == 7);
    CHECK(Derived::alive == 2);
  }
  CHECK(Derived::alive == 0);  // ~Derived ran: released as the Derived it is
  CHECK(pool.in_use() == 0);
  auto again = pool.allocate(1);  // the slots are usable again
  auto twice = pool.allocate(2);
  CHECK(pool.is_full());
}

TEST_CASE("allocate_batch takes an initializer list; GrowingPool(capacity, max)") {
  GrowingPool<int> pool(2, 4);
  auto batch = pool.allocate_batch({1, 2, 3});
  REQUIRE(batch.size() == 3);
  CHECK(*batch[2] == 3);
  CHECK(pool.capacity() <= 4);
  auto last = pool.allocate(4);
  CHECK(pool.is_full());
  CHECK_THROWS_AS((void)pool.allocate(5), pool_exhausted);
  CHECK_THROWS_AS(GrowingPool<int>(8, 4), config_error);
}

TEST_CASE("try_allocate propagates what growth throws, never std::terminate") {
  auto config = PoolConfig<int>::builder()
                    .capacity(1)
                    .growth(GrowthStrategy::custom([](std::size_t) -> std::size_t {
                      throw std::runtime_error("no growth today");
                    }))
                    .build();
  GrowingPool<int> pool(config);
  auto first = pool.try_allocate(1);
  CHECK(first != nullptr);
  CHECK_THROWS_WITH_AS((void)pool.try_allocate(2), "no growth today", std::runtime_error);
  CHECK(pool.in_use() == 1);
}
