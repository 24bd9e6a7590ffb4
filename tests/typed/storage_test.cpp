// Pools over caller-provided storage: no allocation, the sizes they state, bad storage
// refused with config_error.
#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "fastpool/fastpool.hpp"

using namespace fastpool;

namespace {
struct Part {
  double x, y;
  int id;
};
}  // namespace

TEST_CASE_TEMPLATE("a pool over caller storage serves exactly its capacity", Pool, FixedPool<Part>,
                   FixedPool<Part, FreeListStrategy>, FixedPool<Part, BitmapStrategy>,
                   ThreadLocalPool<Part>, ThreadSafePool<Part>) {
  constexpr std::size_t kCap = 100;
  static_assert(Pool::required_bytes(kCap) >= kCap * sizeof(Part));
  alignas(Pool::storage_alignment) static std::array<std::byte, Pool::required_bytes(kCap)> buf;
  {
    Pool pool(std::span<std::byte>(buf), kCap);
    std::vector<typename Pool::handle> held;
    for (int i = 0; i < static_cast<int>(kCap); ++i) held.push_back(pool.allocate(Part{1, 2, i}));
    for (auto& h : held) {
      auto* b = reinterpret_cast<const std::byte*>(h.get());
      CHECK(b >= buf.data());
      CHECK(b + sizeof(Part) <= buf.data() + buf.size());
    }
    CHECK(pool.is_full());
    CHECK(!pool.try_allocate(Part{0, 0, -1}));
    held.clear();
    CHECK(pool.in_use() == 0);
    CHECK(pool.allocate(Part{3, 4, 5})->id == 5);
  }
  // The storage outlives the pool and is the caller's again.
  buf.fill(std::byte{0});
}

TEST_CASE("caller storage too small or misaligned is a config_error") {
  constexpr std::size_t kCap = 16;
  alignas(64) static std::array<std::byte, FixedPool<Part>::required_bytes(kCap) + 64> buf;
  auto too_small = std::span<std::byte>(buf).first(FixedPool<Part>::required_bytes(kCap) - 1);
  CHECK_THROWS_AS(FixedPool<Part>(too_small, kCap), config_error);
  auto misaligned = std::span<std::byte>(buf).subspan(1, FixedPool<Part>::required_bytes(kCap));
  CHECK_THROWS_AS(FixedPool<Part>(misaligned, kCap), config_error);
  auto fits = std::span<std::byte>(buf).first(FixedPool<Part>::required_bytes(kCap));
  FixedPool<Part> pool(fits, kCap);
  CHECK(pool.capacity() == kCap);
}

TEST_CASE("caller storage with a config: pre-initialised objects live in it") {
  auto config = PoolConfig<std::string>::builder()
                    .capacity(8)
                    .pre_initialize(true)
                    .initializer([] { return std::string(40, 'p'); })
                    .build();
  std::vector<std::byte> bytes(FixedPool<std::string>::required_bytes(config) + 64);
  auto at = reinterpret_cast<std::uintptr_t>(bytes.data());
  std::size_t skip = (64 - at % 64) % 64;
  FixedPool<std::string> pool(std::span<std::byte>(bytes).subspan(skip), config);
  auto h = pool.allocate();
  CHECK(*h == std::string(40, 'p'));
}

TEST_CASE("a LockFreePool over caller storage, shared by threads") {
  using Pool = LockFreePool<Part>;
  constexpr std::size_t kCap = 256;
  alignas(Pool::storage_alignment) static std::array<std::byte, Pool::required_bytes(kCap)> buf;
  Pool pool(std::span<std::byte>(buf), kCap);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&pool, t] {
      for (int i = 0; i < 2000; ++i) {
        auto h = pool.try_allocate(Part{1, 2, t});
        if (h) CHECK(h->id == t);
      }
    });
  for (auto& th : threads) th.join();
  CHECK(pool.in_use() == 0);
  CHECK_THROWS_AS(Pool(std::span<std::byte>(buf).first(Pool::required_bytes(kCap) - 1), kCap),
                  config_error);
}

TEST_CASE("storage: the default strategy keeps no bookkeeping beside the slots") {
  // 8-byte objects: the slots, then only the live bits checked code uses (1 bit a slot,
  // reserved in every mode so that one buffer size fits both).
  constexpr std::size_t n = 64000;
  CHECK(FixedPool<std::uint64_t>::required_bytes(n) == n * 8 + 7 + n / 8);
  CHECK(FixedPool<std::uint64_t, StackStrategy>::required_bytes(n) == n * 16 + 7 + n / 8);
  // Pre-initialised: the link sits behind the object, one word.
  auto config = PoolConfig<std::uint64_t>::builder()
                    .capacity(n)
                    .pre_initialize(true)
                    .initializer([] { return std::uint64_t{5}; })
                    .build();
  CHECK(FixedPool<std::uint64_t>::required_bytes(config) == n * 16 + 7 + n / 8);
}
