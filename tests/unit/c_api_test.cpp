// The fp_* C API, used explicitly without overriding anything.
#include <doctest/doctest.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <cstring>
#include <initializer_list>

#include "fastpool/fastpool.h"

TEST_CASE("fp_* allocate from fastpool while malloc stays glibc's") {
  void* p = fp_malloc(100);
  void* q = malloc(100);
  CHECK(fp_owns(p));
  CHECK(!fp_owns(q));
  free(q);
  fp_free(p);
}

TEST_CASE("fp_calloc, fp_realloc, fp_aligned_alloc, fp_usable_size") {
  auto* z = static_cast<unsigned char*>(fp_calloc(10, 10));
  for (int i = 0; i < 100; ++i) CHECK(z[i] == 0);
  z = static_cast<unsigned char*>(fp_realloc(z, 5000));
  CHECK(z[99] == 0);
  CHECK(fp_usable_size(z) >= 5000);
  fp_free(z);
  void* a = fp_aligned_alloc(512, 10);
  CHECK(reinterpret_cast<uintptr_t>(a) % 512 == 0);
  fp_free(a);
  errno = 0;
  CHECK(fp_aligned_alloc(3, 10) == nullptr);
  CHECK(errno == EINVAL);
  errno = 0;
  CHECK(fp_calloc(SIZE_MAX, 2) == nullptr);
  CHECK(errno == ENOMEM);
  CHECK(fp_usable_size(nullptr) == 0);
}

TEST_CASE("fp_block_of finds the block around any byte of it, small to huge") {
  for (std::size_t size : {std::size_t{16}, std::size_t{1000}, std::size_t{100000},
                           std::size_t{3} << 20, std::size_t{64} << 20}) {
    auto* p = static_cast<char*>(fp_malloc(size));
    REQUIRE(p != nullptr);
    CHECK(fp_block_of(p) == p);
    CHECK(fp_block_of(p + size / 2) == p);
    CHECK(fp_block_of(p + size - 1) == p);
    fp_free(p);
  }
  auto* a = static_cast<char*>(fp_aligned_alloc(4096, 5000));
  CHECK(fp_block_of(a + 4999) == a);
  fp_free(a);
  int local = 0;
  void* q = malloc(64);
  CHECK(fp_block_of(&local) == nullptr);
  CHECK(fp_block_of(q) == nullptr);
  CHECK(fp_block_of(nullptr) == nullptr);
  free(q);
}
