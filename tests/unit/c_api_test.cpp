// The fp_* C API, used explicitly without overriding anything.
#include <doctest/doctest.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <cstring>

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
