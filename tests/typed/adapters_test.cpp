// fastpool::Allocator<T> with std containers, and the pmr resources.
#include <doctest/doctest.h>

#include <cstdint>
#include <list>
#include <map>
#include <memory_resource>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "fastpool/fastpool.h"
#include "fastpool/fastpool.hpp"

using namespace fastpool;

static_assert(std::allocator_traits<Allocator<int>>::is_always_equal::value);

TEST_CASE("allocator: std containers on the fastpool engine") {
  std::vector<int, Allocator<int>> v;
  for (int i = 0; i < 10000; ++i) v.push_back(i);
  CHECK(v[9999] == 9999);
  CHECK(fp_owns(v.data()));
  std::map<int, std::string, std::less<>, Allocator<std::pair<const int, std::string>>> m;
  for (int i = 0; i < 100; ++i) m[i] = std::to_string(i);
  CHECK(m[42] == "42");
  std::list<double, Allocator<double>> l(100, 1.5);
  CHECK(l.size() == 100);
  std::basic_string<char, std::char_traits<char>, Allocator<char>> s(1000, 'z');
  CHECK(s.size() == 1000);
  CHECK(Allocator<int>() == Allocator<double>());
  struct alignas(256) Big {
    char c[256];
  };
  std::vector<Big, Allocator<Big>> big(3);
  CHECK(reinterpret_cast<std::uintptr_t>(big.data()) % 256 == 0);
  CHECK_THROWS_AS((void)Allocator<Big>().allocate(SIZE_MAX / 2), std::bad_array_new_length);
}

TEST_CASE_TEMPLATE("pmr resource: vector, map, unordered_map, string", R, PoolResource,
                   UnsyncPoolResource) {
  R resource;
  {
    std::pmr::vector<int> v(&resource);
    for (int i = 0; i < 5000; ++i) v.push_back(i);
    CHECK(v[4999] == 4999);
    std::pmr::map<int, std::pmr::string> m(&resource);
    for (int i = 0; i < 500; ++i)
      m.emplace(i, std::pmr::string("a value long enough to allocate #" + std::to_string(i)));
    CHECK(m.at(321).find("#321") != std::pmr::string::npos);
    std::pmr::unordered_map<std::pmr::string, int> u(&resource);
    for (int i = 0; i < 500; ++i) u[std::pmr::string("key number " + std::to_string(i))] = i;
    CHECK(u.at("key number 77") == 77);
    std::pmr::string s("x", &resource);
    for (int i = 0; i < 12; ++i) s += s;
    CHECK(s.size() == 4096);
  }
  CHECK(resource.is_equal(resource));
  R other;
  CHECK_FALSE(resource.is_equal(other));
}

TEST_CASE("pmr resource: alignment, sizes and reuse") {
  UnsyncPoolResource r;
  for (std::size_t align : {1, 2, 4, 8, 16, 32, 64, 128, 4096})
    for (std::size_t size : {1, 7, 8, 24, 48, 100, 1000, 3000, 5000, 100000}) {
      void* p = r.allocate(size, align);
      CHECK(reinterpret_cast<std::uintptr_t>(p) % align == 0);
      std::fill_n(static_cast<char*>(p), size, 'q');
      r.deallocate(p, size, align);
    }
  void* a = r.allocate(40);
  r.deallocate(a, 40);
  void* b = r.allocate(40);
  CHECK(a == b);  // same class, LIFO reuse
  r.deallocate(b, 40);
  // many blocks of one class over several chunks, returned in any order
  std::vector<void*> blocks;
  for (int i = 0; i < 5000; ++i) blocks.push_back(r.allocate(64));
  for (std::size_t i = 0; i < blocks.size(); i += 2) r.deallocate(blocks[i], 64);
  for (std::size_t i = 1; i < blocks.size(); i += 2) r.deallocate(blocks[i], 64);
  r.release();
  void* c = r.allocate(64);
  r.deallocate(c, 64);
}

TEST_CASE("pmr resource: synchronised resource shared by threads") {
  PoolResource r;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&r, t] {
      std::pmr::vector<std::pmr::string> v(&r);
      for (int i = 0; i < 2000; ++i) v.emplace_back(std::to_string(t * 100000 + i) + " padding!!");
      for (int i = 0; i < 2000; ++i)
        CHECK(v[static_cast<std::size_t>(i)].rfind(std::to_string(t * 100000 + i), 0) == 0);
    });
  for (auto& t : threads) t.join();
}
