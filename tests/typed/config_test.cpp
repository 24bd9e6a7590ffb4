// PoolConfig builder validation and GrowthStrategy arithmetic.
#include <doctest/doctest.h>

#include <limits>
#include <string>

#include "fastpool/fastpool.hpp"

using fastpool::config_error;
using fastpool::GrowthStrategy;
using fastpool::PoolConfig;

namespace {
struct alignas(32) Wide {
  char bytes[32];
};

template <class F>
std::string field_of(F&& make) {
  try {
    make();
  } catch (const config_error& e) {
    return e.field();
  }
  return "<no error>";
}
}  // namespace

TEST_CASE("config: defaults and a valid build") {
  auto c = PoolConfig<int>::builder().capacity(10).build();
  CHECK(c.capacity() == 10);
  CHECK(c.max_capacity() == std::numeric_limits<std::size_t>::max());
  CHECK(c.alignment() == alignof(int));
  CHECK_FALSE(c.pre_initialize());
  CHECK(c.growth().kind() == GrowthStrategy::Kind::exponential);
}

TEST_CASE("config: every invalid field is named") {
  CHECK(field_of([] { PoolConfig<int>::builder().build(); }) == "capacity");
  CHECK(field_of([] { PoolConfig<int>::builder().capacity(0).build(); }) == "capacity");
  CHECK(field_of([] { PoolConfig<int>::builder().capacity(10).max_capacity(5).build(); }) ==
        "max_capacity");
  CHECK(field_of([] { PoolConfig<int>::builder().capacity(1).alignment(24).build(); }) ==
        "alignment");
  CHECK(field_of([] { PoolConfig<int>::builder().capacity(1).alignment(0).build(); }) ==
        "alignment");
  CHECK(field_of([] { PoolConfig<Wide>::builder().capacity(1).alignment(16).build(); }) ==
        "alignment");
  CHECK(field_of([] {
          PoolConfig<int>::builder().capacity(1).growth(GrowthStrategy::exponential(1.0)).build();
        }) == "growth");
  CHECK(field_of([] {
          PoolConfig<int>::builder().capacity(1).growth(GrowthStrategy::exponential(0.5)).build();
        }) == "growth");
  CHECK(field_of([] {
          PoolConfig<int>::builder().capacity(1).growth(GrowthStrategy::linear(0)).build();
        }) == "growth");
  CHECK(field_of([] {
          PoolConfig<int>::builder().capacity(1).growth(GrowthStrategy::custom({})).build();
        }) == "growth");
  CHECK(field_of([] { PoolConfig<int>::builder().capacity(1).pre_initialize(true).build(); }) ==
        "pre_initialize");
  CHECK(field_of([] {
          PoolConfig<int>::builder().capacity(1).initializer([] { return 1; }).build();
        }) == "initializer");
  CHECK(field_of([] { PoolConfig<int>::builder().capacity(1).reset([](int&) {}).build(); }) ==
        "reset");
  CHECK(field_of([] { fastpool::FixedPool<int> p(0); }) == "capacity");
}

TEST_CASE("config: error message starts with the field") {
  try {
    PoolConfig<int>::builder().capacity(10).max_capacity(5).build();
    FAIL("no error");
  } catch (const config_error& e) {
    CHECK(std::string(e.what()).rfind("max_capacity:", 0) == 0);
  }
}

TEST_CASE("growth: linear, exponential and custom steps") {
  CHECK(GrowthStrategy::linear(7).slots_to_add(100) == 7);
  // grows to max(c + 1, ceil(c * factor))
  CHECK(GrowthStrategy::exponential(2.0).slots_to_add(10) == 10);
  CHECK(GrowthStrategy::exponential(1.5).slots_to_add(3) == 2);   // ceil(4.5) = 5
  CHECK(GrowthStrategy::exponential(1.01).slots_to_add(2) == 1);  // ceil(2.02) = 3
  CHECK(GrowthStrategy::exponential(1.01).slots_to_add(1) == 1);  // at least +1
  CHECK(GrowthStrategy::custom([](std::size_t c) { return c / 2 + 10; }).slots_to_add(100) == 60);
}
