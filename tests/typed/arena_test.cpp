// FrameArena: bump allocation over caller storage or engine memory, mark/rewind/reset,
// registered destructors run newest first, exhaustion as null or bad_alloc.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "fastpool/fastpool.hpp"

using namespace fastpool;

namespace {
struct Logged {
  std::vector<int>* log;
  int id;
  Logged(std::vector<int>* l, int i) : log(l), id(i) {}
  ~Logged() { log->push_back(id); }
};
}  // namespace

TEST_CASE("arena: bump allocation over caller storage, aligned, until full") {
  alignas(64) std::array<std::byte, 256> buffer;
  FrameArena arena(buffer);
  CHECK(arena.capacity() == 256);
  void* a = arena.try_allocate(10, 1);
  void* b = arena.try_allocate(8, 64);
  CHECK(a == buffer.data());
  CHECK(reinterpret_cast<std::uintptr_t>(b) % 64 == 0);
  CHECK(arena.used() == 72);
  CHECK(arena.try_allocate(1000) == nullptr);
  CHECK(arena.used() == 72);  // a failed request takes nothing
  CHECK_THROWS_AS(arena.allocate(1000), std::bad_alloc);
  CHECK(arena.try_allocate(arena.remaining(), 1) != nullptr);
  CHECK(arena.remaining() == 0);
  CHECK(arena.try_allocate(1, 1) == nullptr);
  arena.reset();
  CHECK(arena.used() == 0);
  CHECK(arena.try_allocate(10, 1) == buffer.data());
}

TEST_CASE("arena: mark and rewind give back what came after, destructors newest first") {
  std::vector<int> log;
  {
    FrameArena arena(4096);
    arena.create<Logged>(&log, 1);
    auto m = arena.mark();
    std::size_t used = arena.used();
    arena.create<Logged>(&log, 2);
    arena.create<Logged>(&log, 3);
    int* plain = arena.create<int>(7);
    CHECK(*plain == 7);
    arena.rewind(m);
    CHECK(log == std::vector<int>{3, 2});
    CHECK(arena.used() == used);
    auto* s = arena.create<std::string>(100, 'x');  // heap-owning: its destructor frees it
    CHECK(s->size() == 100);
  }  // the destructor resets: 1 and the string
  CHECK(log == std::vector<int>{3, 2, 1});
}

TEST_CASE("arena: a throwing constructor gives its space back, the arena stays usable") {
  struct Throws {
    Throws() { throw std::runtime_error("no"); }
    ~Throws() {}
  };
  FrameArena arena(1024);
  (void)arena.create<int>(1);
  std::size_t used = arena.used();
  CHECK_THROWS_AS(arena.create<Throws>(), std::runtime_error);
  CHECK(arena.used() == used);
  CHECK_THROWS_AS(arena.try_create<Throws>(), std::runtime_error);  // not an empty result
  CHECK(arena.used() == used);
  CHECK(*arena.create<int>(2) == 2);
}

TEST_CASE("arena: arrays and exhaustion through try_create") {
  FrameArena arena(1024);
  auto* v = arena.try_create_array<std::uint32_t>(100);
  REQUIRE(v != nullptr);
  for (std::uint32_t i = 0; i < 100; ++i) v[i] = i;
  CHECK(arena.try_create_array<std::uint64_t>(std::size_t{1} << 60) == nullptr);
  CHECK(arena.try_create<std::array<char, 2000>>() == nullptr);
  CHECK(v[99] == 99);
}

TEST_CASE("arena: a constructor that creates in the arena and then throws leaves it whole") {
  std::vector<int> log;
  FrameArena arena(4096);
  struct Parent {
    Parent(FrameArena& a, std::vector<int>* l) {
      a.create<Logged>(l, 1);
      throw std::runtime_error("parent");
    }
  };
  std::size_t used = arena.used();
  CHECK_THROWS_AS(arena.create<Parent>(arena, &log), std::runtime_error);
  CHECK(log == std::vector<int>{1});  // the child went with the failed parent
  CHECK(arena.used() == used);
  auto* scribble = static_cast<unsigned char*>(arena.allocate(512));
  for (int i = 0; i < 512; ++i) scribble[i] = 0x41;
  arena.reset();  // no stale record over the scribbled bytes
  CHECK(log == std::vector<int>{1});
}

TEST_CASE("arena: nested creation destroys the outer object first, bad requests are null") {
  std::vector<int> log;
  FrameArena arena(4096);
  struct Outer {
    Logged* inner;
    std::vector<int>* log;
    Outer(FrameArena& a, std::vector<int>* l) : inner(a.create<Logged>(l, 2)), log(l) {}
    ~Outer() { log->push_back(1); }
  };
  auto m = arena.mark();
  arena.create<Outer>(arena, &log);
  arena.rewind(m);
  CHECK(log == std::vector<int>{1, 2});
  CHECK(arena.try_allocate(16, 0) == nullptr);
  CHECK(arena.try_allocate(16, 24) == nullptr);
  CHECK(arena.used() == 0);
  CHECK_THROWS_AS(FrameArena(~std::size_t{0} - 7), std::bad_alloc);
}
