// Class layout does not depend on the mode: a checked translation unit and an unchecked
// one (this, a Release build's) see pools of the same size, so mixing them cannot make
// one read another's members at the wrong place.
#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <string_view>

#include "fastpool/fastpool.hpp"

std::array<std::size_t, 6> checked_pool_sizes();

TEST_CASE("pools have the same layout in checked and unchecked translation units") {
  using namespace fastpool;
  std::array<std::size_t, 6> here = {
      sizeof(FixedPool<int>),       sizeof(GrowingPool<int>),
      sizeof(ThreadLocalPool<int>), sizeof(ThreadSafePool<int>),
      sizeof(LockFreePool<int>),    sizeof(ThreadSafePool<int, BitmapStrategy>)};
  CHECK(here == checked_pool_sizes());
}

unsigned char released_byte_seen();

#if !defined(__SANITIZE_ADDRESS__)  // the read below is what ASan reports, by design
TEST_CASE("a debug build fills a released object with the pattern") {
  CHECK(released_byte_seen() == 0xDB);
}
#endif

std::string_view checked_pool_type();

TEST_CASE("checked and unchecked code see different pool types, so they never mix") {
  std::string_view here = fastpool::detail::type_name<fastpool::FixedPool<int>>();
  CHECK(checked_pool_type().find("fastpool::checked::FixedPool<int") == 0);
  if constexpr (fastpool::detail::kChecked) {  // a Debug tree: this file is checked too
    CHECK(here == checked_pool_type());
  } else {
    CHECK(here.find("fastpool::FixedPool<int") == 0);
    CHECK(here != checked_pool_type());
  }
}
