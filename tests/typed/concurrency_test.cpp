// ThreadSafePool and LockFreePool under concurrent use: every core plus oversubscribed
// threads. A slot handed out twice is caught by its owner word (claimed by CAS); a lost
// slot by refilling the whole pool at the end; corruption by a checksum of the values
// each thread wrote and read back. Deterministic seeds. "hammer" cases are the long
// `stress` runs; the short ones are in the default suite.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "fastpool/fastpool.hpp"

using namespace fastpool;

namespace {
struct Slot {
  std::atomic<int> owner{0};
  std::uint64_t payload = 0;
  Slot() = default;
};

template <class Pool>
void churn(Pool& pool, int threads, int rounds, std::size_t per_thread) {
  std::atomic<bool> twice{false};
  std::atomic<std::uint64_t> written{0}, read{0};
  std::atomic<int> misses{0};
  std::vector<std::thread> workers;
  for (int t = 1; t <= threads; ++t)
    workers.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(t) * 7919);
      std::vector<OwnedHandle<Slot>> held;
      std::uint64_t w = 0, r = 0;
      for (int round = 0; round < rounds; ++round) {
        std::size_t want = rng() % (per_thread + 1);
        while (held.size() < want) {
          OwnedHandle<Slot> h = pool.try_allocate();
          if (!h) {
            misses.fetch_add(1, std::memory_order_relaxed);
            break;
          }
          int expected = 0;
          if (!h->owner.compare_exchange_strong(expected, t)) twice = true;
          h->payload = rng();
          w += h->payload;
          held.push_back(std::move(h));
        }
        std::size_t keep = held.empty() ? 0 : rng() % held.size();
        while (held.size() > keep) {
          OwnedHandle<Slot>& h = held.back();
          if (h->owner.load() != t) twice = true;
          r += h->payload;
          h->owner.store(0);
          held.pop_back();
        }
      }
      for (auto& h : held) {
        r += h->payload;
        h->owner.store(0);
      }
      held.clear();
      written += w;
      read += r;
    });
  for (auto& w : workers) w.join();
  CHECK_FALSE(twice.load());
  CHECK(written.load() == read.load());
  CHECK(pool.in_use() == 0);
  // None lost: the whole capacity can be taken again, all distinct.
  std::set<Slot*> distinct;
  std::vector<OwnedHandle<Slot>> all;
  for (std::size_t i = 0; i < pool.capacity(); ++i) {
    all.push_back(pool.allocate());
    distinct.insert(all.back().get());
  }
  std::size_t capacity = pool.capacity();
  CHECK(distinct.size() == capacity);
  OwnedHandle<Slot> extra = pool.try_allocate();  // only by growing
  CHECK((!extra || pool.capacity() > capacity));
}

unsigned cores() {
  return std::max(2u, std::thread::hardware_concurrency());
}
}  // namespace

TEST_CASE_TEMPLATE("concurrency: short churn", Pool, ThreadSafePool<Slot>, LockFreePool<Slot>,
                   ThreadSafePool<Slot, BitmapStrategy>) {
  Pool pool(64);
  churn(pool, 2, 300, 40);
  churn(pool, 8, 100, 16);
}

// Growth: from 16 slots by 16 at a time up to 256, while threads churn; the churn's own
// final check takes the whole (grown) capacity again, all distinct; then one thread takes
// everything up to the maximum.
TEST_CASE_TEMPLATE("concurrency: shared pools grow under churn, up to their maximum", Pool,
                   ThreadSafePool<Slot>, LockFreePool<Slot>, ThreadSafePool<Slot, BitmapStrategy>) {
  Pool pool(PoolConfig<Slot>::builder()
                .capacity(16)
                .growth(GrowthStrategy::linear(16))
                .max_capacity(256)
                .build());
  churn(pool, 8, 400, 64);
  std::vector<OwnedHandle<Slot>> all;
  while (OwnedHandle<Slot> h = pool.try_allocate()) all.push_back(std::move(h));
  CHECK(all.size() == 256);
  CHECK(pool.capacity() == 256);
  CHECK(pool.statistics().growth_count == 15);
  all.clear();
  churn(pool, 2, 300, 100);
}

TEST_CASE_TEMPLATE("concurrency: a shared pool grows only when its config says so", Pool,
                   ThreadSafePool<int>, LockFreePool<int>) {
  Pool fixed(PoolConfig<int>::builder().capacity(2).build());
  auto a = fixed.allocate(1), b = fixed.allocate(2);
  CHECK_FALSE(fixed.try_allocate(3));
  CHECK(fixed.capacity() == 2);
  Pool growing(
      PoolConfig<int>::builder().capacity(2).growth(GrowthStrategy::exponential(2)).build());
  std::vector<OwnedHandle<int>> held;
  for (int i = 0; i < 1000; ++i) held.push_back(growing.allocate(i));
  CHECK(growing.capacity() >= 1000);
  for (int i = 0; i < 1000; ++i) {
    CHECK(*held[static_cast<std::size_t>(i)] == i);
    CHECK(growing.owns(held[static_cast<std::size_t>(i)].get()));
  }
  CHECK_FALSE(growing.owns(a.get()));
  held.clear();
  CHECK(growing.in_use() == 0);
}

TEST_CASE_TEMPLATE("concurrency: hammer, growing shared pools", Pool, ThreadSafePool<Slot>,
                   LockFreePool<Slot>) {
  Pool pool(PoolConfig<Slot>::builder()
                .capacity(8)
                .growth(GrowthStrategy::exponential(1.5))
                .max_capacity(2048)
                .build());
  churn(pool, static_cast<int>(cores()) * 2, 5000, 200);
}

TEST_CASE_TEMPLATE("concurrency: hammer, all cores and oversubscribed", Pool, ThreadSafePool<Slot>,
                   ThreadSafePool<Slot, FreeListStrategy>, ThreadSafePool<Slot, BitmapStrategy>,
                   LockFreePool<Slot>) {
  Pool pool(PoolConfig<Slot>::builder().capacity(256).alignment(64).build());
  churn(pool, static_cast<int>(cores()), 20000, 64);
  churn(pool, 8, 10000, 48);
  churn(pool, 16, 3000, 32);
}

TEST_CASE("concurrency: hammer, lock-free pool hand-off between threads") {
  // Producer threads allocate, consumer threads release: every release is remote.
  LockFreePool<Slot> pool(128);
  std::atomic<Slot*> mailbox[16];
  for (auto& m : mailbox) m.store(nullptr);
  std::atomic<bool> stop{false};
  std::atomic<long> produced{0}, consumed{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < 2; ++p)
    threads.emplace_back([&, p] {
      for (int i = 0; i < 100000; ++i) {
        Slot* s = pool.try_create();
        if (s == nullptr) continue;
        s->payload = static_cast<std::uint64_t>(i);
        Slot* expected = nullptr;
        std::size_t box = static_cast<std::size_t>(i + p) % 16;
        if (mailbox[box].compare_exchange_strong(expected, s)) {
          ++produced;
        } else {
          pool.destroy(s);
        }
      }
    });
  for (int c = 0; c < 2; ++c)
    threads.emplace_back([&] {
      while (!stop.load()) {
        for (auto& m : mailbox)
          if (Slot* s = m.exchange(nullptr)) {
            pool.destroy(s);
            ++consumed;
          }
      }
    });
  threads[0].join();
  threads[1].join();
  stop = true;
  threads[2].join();
  threads[3].join();
  for (auto& m : mailbox)
    if (Slot* s = m.exchange(nullptr)) {
      pool.destroy(s);
      ++consumed;
    }
  CHECK(produced.load() == consumed.load());
  CHECK(pool.in_use() == 0);
}

TEST_CASE_TEMPLATE("concurrency: slots parked by an idle or exited thread stay reachable", Pool,
                   ThreadSafePool<Slot>, LockFreePool<Slot>) {
  // A thread's releases land in its cache (LockFreePool: a magazine of several slots);
  // another thread must still get all `capacity` slots, while that thread sleeps and
  // after it has exited.
  Pool pool(64);
  auto fill_and_empty = [&](std::size_t n) {
    std::vector<OwnedHandle<Slot>> held;
    for (std::size_t i = 0; i < n; ++i) held.push_back(pool.allocate());
    for (std::size_t i = 0; i < n; i += 2) held[i].reset();  // out of order, then the rest
    held.clear();
  };
  auto take_all_here = [&] {
    std::set<Slot*> distinct;
    std::vector<OwnedHandle<Slot>> all;
    while (OwnedHandle<Slot> h = pool.try_allocate()) {
      distinct.insert(h.get());
      all.push_back(std::move(h));
    }
    CHECK(all.size() == pool.capacity());
    CHECK(distinct.size() == pool.capacity());
    CHECK(pool.in_use() == pool.capacity());
    CHECK(pool.available() == 0);
  };
  std::atomic<int> step{0};
  std::thread idle([&] {
    fill_and_empty(40);
    step = 1;
    while (step.load() != 2) std::this_thread::yield();
  });
  while (step.load() != 1) std::this_thread::yield();
  CHECK(pool.in_use() == 0);
  CHECK(pool.available() == pool.capacity());
  take_all_here();  // the idle thread's parked slots included
  step = 2;
  idle.join();
  CHECK(pool.in_use() == 0);
  for (int t = 0; t < 3; ++t) std::thread([&] { fill_and_empty(64); }).join();
  CHECK(pool.in_use() == 0);
  take_all_here();  // slots parked by exited threads included
}
