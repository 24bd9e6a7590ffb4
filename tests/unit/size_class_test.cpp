#include <doctest/doctest.h>

#include "router/size_class.hpp"

using namespace fastpool;

TEST_CASE("size -> class -> block size round-trips for every small size") {
  int prev = 0;
  for (std::size_t n = 0; n <= kMaxSmall; ++n) {
    int c = size_class(n);
    REQUIRE(c >= 0);
    REQUIRE(c < kClassCount);
    std::size_t bs = class_size(c);
    CHECK(bs >= n);
    CHECK((c == 0 || class_size(c - 1) < n));  // the smallest class that fits
    CHECK(c >= prev);
    prev = c;
    if (n >= 16) CHECK(bs % 16 == 0);
    if (n > 128) CHECK(static_cast<double>(bs - n) / static_cast<double>(bs) <= 0.125);
    // A power of two and a small header (a 4 KiB page and its 8 bytes) wastes little.
    if (n > 1024 && n <= 8192) CHECK(bs - n < bs / 16);
  }
  CHECK(class_size(size_class(4096 + 8)) == 4096 + 256);
  CHECK(class_size(size_class(1024 + 8)) == 1024 + 64);
}

TEST_CASE("classes are strictly increasing and the direct table agrees") {
  for (int c = 1; c < kClassCount; ++c) CHECK(class_size(c) > class_size(c - 1));
  for (std::size_t n = 0; n <= kDirectMax; ++n)
    CHECK(kDirectClass[direct_slot(n)] == size_class(n));
  for (std::size_t n = kDirectMax + 1; n <= kMaxSmall; ++n) CHECK(medium_class(n) == size_class(n));
  for (int c = 0; c < kClassCount; ++c) CHECK(kClassSize[c] == class_size(c));
  CHECK(class_size(0) == 16);
  CHECK(size_class(0) == 0);
  CHECK(size_class(8) == 0);
  CHECK(size_class(17) == size_class(32));
}
