// The three slot strategies: same observable behaviour, each engine's own invariants.
#include <doctest/doctest.h>

#include <random>
#include <set>
#include <vector>

#include "fastpool/engine/bitmap_block_pool.hpp"
#include "fastpool/engine/stack_block_pool.hpp"
#include "fastpool/fastpool.hpp"

using namespace fastpool;

TEST_CASE_TEMPLATE("strategy: random churn never hands a slot out twice", S, StackStrategy,
                   FreeListStrategy, BitmapStrategy) {
  constexpr int kSlots = 300;  // several bitmap words
  FixedPool<long, S> pool(kSlots);
  std::vector<long*> out;
  std::set<long*> live;
  std::mt19937 rng(12345);
  for (int step = 0; step < 20000; ++step) {
    bool take = out.empty() || (out.size() < kSlots && rng() % 2 == 0);
    if (take) {
      long* p = pool.create(step);
      CHECK(live.insert(p).second);
      out.push_back(p);
    } else {
      std::size_t i = rng() % out.size();
      long* p = out[i];
      out[i] = out.back();
      out.pop_back();
      live.erase(p);
      pool.destroy(p);
    }
    if (step % 1000 == 0) CHECK(pool.in_use() == out.size());
  }
  for (long* p : out) pool.destroy(p);
  CHECK(pool.in_use() == 0);
}

TEST_CASE("strategy: stack is LIFO, bitmap lowest-first") {
  FixedPool<int, StackStrategy> stack(8);
  int* a = stack.create();
  int* b = stack.create();
  stack.destroy(a);
  stack.destroy(b);
  int* c = stack.create();
  CHECK(c == b);  // most recent first
  stack.destroy(c);
  FixedPool<int, BitmapStrategy> bitmap(8);
  int* x = bitmap.create();
  int* y = bitmap.create();
  bitmap.destroy(y);
  bitmap.destroy(x);
  int* z = bitmap.create();
  CHECK(z == x);  // lowest address first
  bitmap.destroy(z);
}

TEST_CASE("engine: StackBlockPool counts and bounds") {
  alignas(16) static char storage[16 * 10];
  void* index[10];
  engine::StackBlockPool p;
  p.init(storage, 16, 10, index);
  CHECK(p.unused());
  std::vector<void*> blocks;
  while (void* b = p.allocate()) blocks.push_back(b);
  CHECK(blocks.size() == 10);
  CHECK(p.full());
  CHECK(p.touched_blocks() == 10);
  for (void* b : blocks) p.deallocate(b);
  CHECK(p.used() == 0);
  CHECK(p.available() == 10);
  CHECK(p.allocate() == blocks.back());
}

TEST_CASE("engine: BitmapBlockPool over many words finds every free block") {
  constexpr std::size_t n = 64 * 70 + 5;  // more than one summary word
  std::vector<long> storage(n);
  std::vector<std::uint64_t> index(engine::BitmapBlockPool::index_bytes(n) / 8);
  engine::BitmapBlockPool p;
  p.init(storage.data(), sizeof(long), n, index.data());
  std::vector<void*> blocks;
  while (void* b = p.allocate()) blocks.push_back(b);
  CHECK(blocks.size() == n);
  for (std::size_t i = 0; i < n; i += 3) p.deallocate(blocks[i]);
  CHECK(p.is_free(blocks[0]));
  CHECK_FALSE(p.is_free(blocks[1]));
  std::set<void*> again;
  while (void* b = p.allocate()) again.insert(b);
  CHECK(again.size() == (n + 2) / 3);
  CHECK(p.full());
}
