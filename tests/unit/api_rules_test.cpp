// The C API's rules, as programs depend on them (glibc's behaviour), checked through the
// plain names: this file runs linked with fastpool::override and under LD_PRELOAD.
#include <doctest/doctest.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include "owns.hpp"

namespace {

bool aligned(const void* p, std::size_t a) {
  return reinterpret_cast<uintptr_t>(p) % a == 0;
}
// Hides a deliberately impossible size from the compiler's own diagnostics.
std::size_t opaque(std::size_t n) {
  volatile std::size_t v = n;
  return v;
}

// Allocates in a static constructor and frees in a static destructor, before main and
// after exit begins.
struct BeforeMain {
  void* p;
  bool owned;
  BeforeMain() : p(malloc(100)), owned(fastpool_owns(p)) { memset(p, 1, 100); }
  ~BeforeMain() {
    free(p);
    void* q = malloc(64);  // allocating while exit runs
    free(q);
  }
} before_main;

}  // namespace

TEST_CASE("the allocator serves the program, from before main on") {
  CHECK(before_main.owned);
  void* p = malloc(16);
  CHECK(fastpool_owns(p));
  free(p);
}

TEST_CASE("malloc(0) gives unique pointers; free(NULL) does nothing") {
  void* a = malloc(0);
  void* b = malloc(0);
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  CHECK(a != b);
  free(a);
  free(b);
  free(nullptr);
}

TEST_CASE("every size class and large and huge sizes are writable and aligned") {
  std::vector<void*> blocks;
  for (std::size_t n = 1; n <= (std::size_t{8} << 20); n = n < 4096 ? n + 1 : n * 3 / 2) {
    auto* p = static_cast<unsigned char*>(malloc(n));
    REQUIRE(p != nullptr);
    CHECK(aligned(p, n >= 16 ? 16 : 8));
    CHECK(malloc_usable_size(p) >= n);
    memset(p, static_cast<int>(n & 0xff), malloc_usable_size(p));
    blocks.push_back(p);
  }
  std::set<void*> distinct(blocks.begin(), blocks.end());
  CHECK(distinct.size() == blocks.size());
  std::size_t n = 1;
  for (void* p : blocks) {
    CHECK(static_cast<unsigned char*>(p)[0] == static_cast<unsigned char>(n & 0xff));
    CHECK(static_cast<unsigned char*>(p)[n - 1] == static_cast<unsigned char>(n & 0xff));
    free(p);
    n = n < 4096 ? n + 1 : n * 3 / 2;
  }
}

TEST_CASE("realloc follows glibc") {
  SUBCASE("NULL is malloc") {
    void* p = realloc(nullptr, 40);
    REQUIRE(p != nullptr);
    CHECK(fastpool_owns(p));
    free(p);
  }
  SUBCASE("size 0 frees and returns NULL") {
    void* p = malloc(40);
    CHECK(realloc(p, 0) == nullptr);
  }
  SUBCASE("growing keeps the contents, through small, large and huge") {
    auto* p = static_cast<unsigned char*>(malloc(16));
    for (int i = 0; i < 16; ++i) p[i] = static_cast<unsigned char>(i);
    std::size_t n = 16;
    while (n < (std::size_t{16} << 20)) {
      std::size_t m = n * 2;
      p = static_cast<unsigned char*>(realloc(p, m));
      REQUIRE(p != nullptr);
      for (std::size_t i = 0; i < n; i += 7)
        REQUIRE(p[i] == static_cast<unsigned char>(i < 16 ? i : i % 251));
      for (std::size_t i = n; i < m; ++i) p[i] = static_cast<unsigned char>(i % 251);
      n = m;
    }
    free(p);
  }
  SUBCASE("shrinking keeps the prefix and stays in place within the class") {
    auto* p = static_cast<char*>(malloc(100));
    memcpy(p, "fastpool", 9);
    char* q = static_cast<char*>(realloc(p, 97));
    CHECK(q == p);
    CHECK(strcmp(q, "fastpool") == 0);
    q = static_cast<char*>(realloc(q, 9));
    CHECK(strcmp(q, "fastpool") == 0);
    free(q);
  }
  SUBCASE("failure leaves the block intact") {
    auto* p = static_cast<char*>(malloc(32));
    strcpy(p, "kept");
    errno = 0;
    CHECK(realloc(p, opaque(SIZE_MAX / 2)) == nullptr);
    CHECK(errno == ENOMEM);
    CHECK(strcmp(p, "kept") == 0);
    free(p);
  }
}

TEST_CASE("aligned allocation honours every power of two up to 1 MiB") {
  for (std::size_t a = 1; a <= (std::size_t{1} << 21); a *= 2) {
    for (std::size_t n :
         {std::size_t{1}, std::size_t{24}, a, a + 1, std::size_t{3000}, std::size_t{200000}}) {
      void* p = nullptr;
      if (a >= sizeof(void*)) {
        REQUIRE(posix_memalign(&p, a, n) == 0);
        CHECK(aligned(p, a));
        CHECK(malloc_usable_size(p) >= n);
        memset(p, 0xab, n);
        free(p);
      }
      p = aligned_alloc(a, n);
      REQUIRE(p != nullptr);
      CHECK(aligned(p, a));
      memset(p, 0xcd, n);
      free(p);
      p = memalign(a, n);
      REQUIRE(p != nullptr);
      CHECK(aligned(p, a));
      free(p);
    }
  }
  long ps = sysconf(_SC_PAGESIZE);
  void* v = valloc(10);
  CHECK(aligned(v, static_cast<std::size_t>(ps)));
  free(v);
  void* pv = pvalloc(10);
  CHECK(aligned(pv, static_cast<std::size_t>(ps)));
  CHECK(malloc_usable_size(pv) >= static_cast<std::size_t>(ps));
  free(pv);
}

TEST_CASE("a bad alignment: EINVAL from posix_memalign, glibc 2.36's rounding elsewhere") {
  void* p = reinterpret_cast<void*>(1);
  CHECK(posix_memalign(&p, 24, 10) == EINVAL);
  CHECK(posix_memalign(&p, 4, 10) == EINVAL);  // not a multiple of sizeof(void*)
  CHECK(p == reinterpret_cast<void*>(1));
  // memalign and aligned_alloc round up to a power of two (0 means none), as glibc does.
  void* a = aligned_alloc(24, 10);
  REQUIRE(a != nullptr);
  CHECK(reinterpret_cast<std::uintptr_t>(a) % 32 == 0);
  free(a);
  void* m = memalign(0, 10);
  CHECK(m != nullptr);
  free(m);
  errno = 0;
  CHECK(memalign(~std::size_t{0}, 10) == nullptr);  // cannot be rounded
  CHECK(errno == EINVAL);
}

TEST_CASE("calloc gives zeroed memory, also for reused dirty blocks") {
  for (std::size_t n : {8, 64, 500, 5000, 70000, 3000000}) {
    for (int round = 0; round < 3; ++round) {
      auto* d = static_cast<unsigned char*>(malloc(n));
      memset(d, 0xff, n);
      free(d);
      auto* z = static_cast<unsigned char*>(calloc(1, n));
      REQUIRE(z != nullptr);
      bool all_zero = true;
      for (std::size_t i = 0; i < n; ++i) all_zero &= z[i] == 0;
      CHECK(all_zero);
      free(z);
    }
  }
}

TEST_CASE("overflow and impossible sizes give NULL and ENOMEM") {
  errno = 0;
  CHECK(calloc(opaque(SIZE_MAX / 2), 3) == nullptr);
  CHECK(errno == ENOMEM);
  errno = 0;
  CHECK(reallocarray(nullptr, opaque(SIZE_MAX / 2), 3) == nullptr);
  CHECK(errno == ENOMEM);
  errno = 0;
  CHECK(malloc(opaque(SIZE_MAX)) == nullptr);
  CHECK(errno == ENOMEM);
  errno = 0;
  CHECK(malloc(opaque(static_cast<std::size_t>(PTRDIFF_MAX) + 1)) == nullptr);
  CHECK(errno == ENOMEM);
  void* p = reallocarray(nullptr, 10, 10);
  REQUIRE(p != nullptr);
  CHECK(malloc_usable_size(p) >= 100);
  free(p);
}

TEST_CASE("out of address space gives NULL and ENOMEM, and the heap keeps working") {
  errno = 0;
  CHECK(malloc(opaque(std::size_t{1} << 47)) == nullptr);  // more than user space
  CHECK(errno == ENOMEM);
  void* p = malloc(64);
  CHECK(p != nullptr);
  free(p);
}

TEST_CASE("malloc_usable_size is writable in full") {
  for (std::size_t n = 1; n < 300000; n = n * 2 + 1) {
    auto* p = static_cast<unsigned char*>(malloc(n));
    std::size_t u = malloc_usable_size(p);
    CHECK(u >= n);
    memset(p, 0x5a, u);
    free(p);
  }
  CHECK(malloc_usable_size(nullptr) == 0);
}

TEST_CASE("mallinfo2, malloc_trim and mallopt answer") {
  void* p = malloc(1 << 20);
  struct mallinfo2 mi = mallinfo2();
  CHECK(mi.arena > 0);
  free(p);
  CHECK(malloc_trim(0) == 1);
  CHECK(mallopt(M_ARENA_MAX, 1) == 0);  // no arenas: refused, as glibc refuses what it lacks
}

TEST_CASE("a random workload of every size keeps every block intact (deterministic seed)") {
  constexpr int kSlots = 4000;
  struct Live {
    unsigned char* p = nullptr;
    std::size_t n = 0;
    unsigned char tag = 0;
  };
  std::vector<Live> live(kSlots);
  std::uint64_t rng = 0x9e3779b97f4a7c15ull;
  auto next = [&] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  auto size = [&] {
    std::uint64_t r = next();
    switch (r % 8) {
      case 0:
        return static_cast<std::size_t>(r >> 8) % 100000;  // up to large
      case 1:
        return static_cast<std::size_t>(r >> 8) % 8192;  // past the direct table
      default:
        return static_cast<std::size_t>(r >> 8) % 512;  // the hot small sizes
    }
  };
  int corrupted = 0;
  auto check_and_free = [&](Live& l) {
    if (l.p == nullptr) return;
    for (std::size_t k = 0; k < l.n; k += 61) corrupted += l.p[k] != l.tag;
    if (l.n > 0) corrupted += l.p[l.n - 1] != l.tag;
    free(l.p);
    l.p = nullptr;
  };
  for (int step = 0; step < 300000; ++step) {
    Live& l = live[next() % kSlots];
    std::uint64_t action = next() % 10;
    if (action < 6 || l.p == nullptr) {
      check_and_free(l);
      l.n = size();
      l.tag = static_cast<unsigned char>(step);
      l.p = static_cast<unsigned char*>(action == 0 ? calloc(1, l.n) : malloc(l.n));
      REQUIRE(l.p != nullptr);
      memset(l.p, l.tag, l.n);
    } else if (action < 8) {
      std::size_t n = size();
      for (std::size_t k = 0; k < std::min(n, l.n); k += 61) corrupted += l.p[k] != l.tag;
      l.p = static_cast<unsigned char*>(realloc(l.p, n));
      REQUIRE((l.p != nullptr || n == 0));
      if (l.p != nullptr) memset(l.p, l.tag, n);
      l.n = n;
    } else {
      check_and_free(l);
    }
  }
  for (Live& l : live) check_and_free(l);
  CHECK(corrupted == 0);
}
