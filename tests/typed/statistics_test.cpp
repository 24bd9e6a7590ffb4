// PoolStatistics: counters (FASTPOOL_STATS builds) and the always-available queries.
#include <doctest/doctest.h>

#include <sstream>
#include <vector>

#include "fastpool/fastpool.hpp"

using namespace fastpool;

TEST_CASE_TEMPLATE("statistics: counts allocations, peak and failures", Pool, FixedPool<int>,
                   FixedPool<int, FreeListStrategy>, FixedPool<int, BitmapStrategy>,
                   ThreadLocalPool<int>, ThreadSafePool<int>, LockFreePool<int>) {
  Pool pool(4);
  {
    std::vector<OwnedHandle<int>> held;
    for (int i = 0; i < 4; ++i) held.push_back(pool.allocate(i));
    CHECK_FALSE(pool.try_allocate(0));
    held.resize(1);
    held.push_back(pool.allocate(5));
    PoolStatistics s = pool.statistics();
    CHECK(s.capacity == 4);
    CHECK(s.in_use == 2);
    CHECK(s.utilization_rate() == doctest::Approx(0.5));
    if (s.counted) {
      CHECK(s.total_allocations == 5);
      CHECK(s.total_deallocations == 3);
      CHECK(s.peak_usage == 4);
      CHECK(s.allocation_failures == 1);
      CHECK(s.hit_rate() == doctest::Approx(5.0 / 6.0));
    }
  }
  CHECK(pool.statistics().in_use == 0);
}

TEST_CASE("statistics: growing pool counts growths") {
  GrowingPool<int> pool(PoolConfig<int>::builder().capacity(1).max_capacity(3).build());
  std::vector<OwnedHandle<int>> held;
  for (int i = 0; i < 3; ++i) held.push_back(pool.allocate(i));
  CHECK_FALSE(pool.try_allocate(0));
  PoolStatistics s = pool.statistics();
  CHECK(s.growth_count == 2);
  CHECK(s.capacity == 3);
  if (s.counted) {
    CHECK(s.peak_usage == 3);
    CHECK(s.allocation_failures == 1);
  }
}

TEST_CASE("statistics: text output") {
  FixedPool<int> pool(10);
  auto h = pool.allocate(1);
  std::string text = pool.statistics().to_string();
  CHECK(text.find("capacity=10") != std::string::npos);
  CHECK(text.find("in_use=1") != std::string::npos);
  CHECK(text.find("utilization=10%") != std::string::npos);
  std::ostringstream out;
  out << pool.statistics();
  CHECK(out.str() == text);
  PoolStatistics empty;
  CHECK(empty.hit_rate() == 1.0);
  CHECK(empty.utilization_rate() == 0.0);
}

TEST_CASE("statistics: compiled in as configured") {
#if defined(FASTPOOL_STATS) && FASTPOOL_STATS
  CHECK(kStatisticsEnabled);
#else
  CHECK_FALSE(kStatisticsEnabled);
#endif
}
