// The pool engines on their own, fed by test-owned memory.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "fastpool/engine/atomic_free_list.hpp"
#include "fastpool/engine/fixed_pool.hpp"
#include "fastpool/engine/growing_pool.hpp"
#include "fastpool/engine/thread_owned.hpp"

using namespace fastpool::engine;

TEST_CASE("FreeList is LIFO and knows its members") {
  alignas(16) char blocks[4][16];
  FreeList fl;
  CHECK(fl.empty());
  CHECK(fl.pop() == nullptr);
  for (auto& b : blocks) fl.push(b);
  CHECK(fl.contains(blocks[2]));
  CHECK(fl.pop() == blocks[3]);
  CHECK(!fl.contains(blocks[3]));
  CHECK(fl.pop() == blocks[2]);
  FreeBlock* rest = fl.take_all();
  CHECK(rest == reinterpret_cast<FreeBlock*>(blocks[1]));
  CHECK(fl.empty());
}

// Runs `corrupt` in a child with stderr muted and returns how the child ended.
template <class F>
int child_status(F corrupt) {
  pid_t pid = fork();
  if (pid == 0) {
    dup2(open("/dev/null", O_WRONLY), 2);
    corrupt();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST_CASE("TaggedFreeList::pop_verified hands out what was pushed, and aborts at a broken block") {
  static struct {
    TaggedFreeList<22> list;
    alignas(16) char blocks[3][32];
  } a;
  const char* lo = a.blocks[0];
  const char* hi = lo + sizeof a.blocks;
  for (auto& b : a.blocks) a.list.push(b);
  CHECK(a.list.pop_verified(lo, hi) == a.blocks[2]);
  auto aborted = [](int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT; };
  // The head's tag zeroed, as by a write after free of its first 16 bytes.
  CHECK(aborted(child_status([&] {
    std::memset(a.blocks[1], 0, 16);
    a.list.pop_verified(lo, hi);
  })));
  // Its link (plain in release builds) pointing outside [lo, hi).
  CHECK(aborted(child_status([&] {
    *reinterpret_cast<std::uintptr_t*>(a.blocks[1]) ^= 0x41410000;
    a.list.pop_verified(lo, hi);
  })));
  CHECK(a.list.pop_verified(lo, hi) == a.blocks[1]);
  CHECK(a.list.pop_verified(lo, hi) == a.blocks[0]);
  CHECK(a.list.pop_verified(lo, hi) == nullptr);
}

TEST_CASE("FixedBlockPool hands out each block once, then reuses returned ones") {
  constexpr std::size_t kBlock = 48, kCount = 100;
  alignas(64) static char storage[kBlock * kCount];
  FixedBlockPool pool;
  pool.init(storage, kBlock, kCount);
  CHECK(pool.capacity() == kCount);
  CHECK(pool.unused());
  std::set<void*> seen;
  for (std::size_t i = 0; i < kCount; ++i) {
    void* b = pool.allocate();
    REQUIRE(b != nullptr);
    CHECK(pool.contains(b));
    CHECK(seen.insert(b).second);
  }
  CHECK(pool.full());
  CHECK(pool.allocate() == nullptr);
  CHECK(pool.used() == kCount);
  void* some = *seen.begin();
  pool.deallocate(some);
  CHECK(pool.is_free(some));
  CHECK(pool.available() == 1);
  CHECK(pool.allocate() == some);
  CHECK(!pool.contains(storage + 1));
  CHECK(pool.index_of(pool.block_at(7)) == 7);
}

TEST_CASE("FixedBlockPool touches memory lazily, in batches") {
  constexpr std::size_t kBlock = 64, kCount = 1024;
  alignas(64) static char storage[kBlock * kCount];
  FixedBlockPool pool;
  pool.init(storage, kBlock, kCount);
  CHECK(pool.touched_bytes() == 0);
  (void)pool.allocate();
  CHECK(pool.touched_bytes() > 0);
  CHECK(pool.touched_bytes() <= 4096);
  CHECK(pool.pop_free() != nullptr);  // the batch sits on the free list
}

namespace {

// A memory source that records every chunk it hands out, to prove all come back.
struct Chunk {
  FixedBlockPool pool;
  Chunk* next = nullptr;
  Chunk* prev = nullptr;
  bool full = false;
};

struct CountingSource {
  using Chunk = ::Chunk;
  std::size_t chunk_blocks = 4;
  std::size_t max_capacity = 20;
  int* live_chunks = nullptr;
  int full_events = 0, available_events = 0;

  Chunk* grow(std::size_t capacity) {
    if (capacity >= max_capacity) return nullptr;
    std::size_t n = std::min(chunk_blocks, max_capacity - capacity);
    auto* c = new Chunk;
    c->pool.init(std::aligned_alloc(16, n * 32), 32, n);
    ++*live_chunks;
    return c;
  }
  void on_full(Chunk*) { ++full_events; }
  void on_available(Chunk*) { ++available_events; }
};

}  // namespace

TEST_CASE("GrowingBlockPool grows chunk by chunk up to its source's maximum") {
  int live = 0;
  GrowingBlockPool<CountingSource> pool(CountingSource{4, 10, &live});
  std::vector<void*> got;
  while (void* b = pool.allocate()) got.push_back(b);
  CHECK(got.size() == 10);  // 4 + 4 + 2: the last step clipped to the maximum
  CHECK(pool.capacity() == 10);
  CHECK(pool.growth_count() == 3);
  CHECK(pool.chunk_count() == 3);
  CHECK(std::set<void*>(got.begin(), got.end()).size() == 10);

  Chunk* c = pool.find(got[0]);
  REQUIRE(c != nullptr);
  CHECK(c->full);
  pool.deallocate(c, got[0]);
  CHECK(!c->full);
  CHECK(pool.source().available_events == 1);
  CHECK(pool.allocate() == got[0]);

  for (void* b : got) pool.deallocate(pool.find(b), b);
  std::vector<Chunk*> chunks;
  pool.for_each_chunk([&](Chunk* ch) { chunks.push_back(ch); });
  for (Chunk* ch : chunks) {
    CHECK(ch->pool.unused());
    pool.remove_unused(ch);
    std::free(ch->pool.start());
    delete ch;
    --live;
  }
  CHECK(live == 0);
  CHECK(pool.capacity() == 0);
}

TEST_CASE("GrowingBlockPool reuses another chunk's free blocks before touching a tail") {
  int live = 0;
  // 256 blocks of 32 bytes a chunk: a chunk is carved 128 blocks (4 KiB) at a time.
  GrowingBlockPool<CountingSource> pool(CountingSource{256, 1024, &live});
  std::vector<void*> first;
  for (int i = 0; i < 256; ++i) first.push_back(pool.allocate());
  Chunk* a = pool.find(first[0]);
  void* b0 = pool.allocate();  // a second chunk, carved in part
  Chunk* b = pool.find(b0);
  REQUIRE(b != a);
  std::vector<void*> second{b0};
  for (int i = 1; i < 128; ++i) second.push_back(pool.allocate());  // b's carved part
  CHECK(b->pool.touched_bytes() == 128 * 32);
  pool.deallocate(a, first[7]);  // a regains a block, behind b
  CHECK(pool.allocate() == first[7]);
  CHECK(b->pool.touched_bytes() == 128 * 32);  // b's tail untouched
  void* next = pool.allocate();                // nothing free elsewhere: b's tail
  CHECK(pool.find(next) == b);
  CHECK(b->pool.touched_bytes() > 128 * 32);
  pool.deallocate(b, next);
  first[7] = nullptr;
  std::vector<Chunk*> chunks;
  pool.for_each_chunk([&](Chunk* ch) { chunks.push_back(ch); });
  for (Chunk* ch : chunks) {
    std::free(ch->pool.start());
    delete ch;
  }
}

TEST_CASE("AtomicFreeList: concurrent pushes, one take_all sees every block once") {
  constexpr int kThreads = 4, kPer = 20000;
  std::vector<FreeBlock> blocks(kThreads * kPer);
  AtomicFreeList list;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) list.push(&blocks[static_cast<std::size_t>(t * kPer + i)]);
    });
  std::size_t taken = 0;
  std::set<FreeBlock*> seen;
  auto drain = [&] {
    for (FreeBlock* b = list.take_all(); b != nullptr; b = b->next) {
      CHECK(seen.insert(b).second);
      ++taken;
    }
  };
  while (taken < blocks.size()) drain();
  for (auto& t : ts) t.join();
  drain();
  CHECK(taken == blocks.size());
  CHECK(list.empty());
}

TEST_CASE("AtomicFreeList: concurrent pop and push lose and duplicate nothing") {
  constexpr int kBlocks = 64, kThreads = 4, kIters = 50000;
  std::vector<FreeBlock> blocks(kBlocks);
  AtomicFreeList list;
  for (auto& b : blocks) list.push(&b);
  std::atomic<int> in_use[kBlocks] = {};
  std::atomic<bool> dup{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < kIters; ++i) {
        auto* b = static_cast<FreeBlock*>(list.pop());
        if (b == nullptr) continue;
        auto idx = b - blocks.data();
        if (in_use[idx].fetch_add(1) != 0) dup = true;
        in_use[idx].fetch_sub(1);
        list.push(b);
      }
    });
  for (auto& t : ts) t.join();
  CHECK(!dup);
  int count = 0;
  while (list.pop() != nullptr) ++count;
  CHECK(count == kBlocks);
}

TEST_CASE("ThreadOwned knows its owner thread") {
  ThreadOwned<FreeList> owned;
  CHECK(owned.owned_by_caller());
  bool other = true;
  std::thread([&] { other = owned.owned_by_caller(); }).join();
  CHECK(!other);
  CHECK(owned.get<true>().empty());
}
