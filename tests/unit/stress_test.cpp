// Long multithreaded stress (ctest label `stress`): threads allocate random sizes, keep a
// random live set, hand a share of their blocks to the next thread to free, realloc some,
// and verify every byte before it is freed. Deterministic seeds; scripts/stress.sh runs it
// linked in and under LD_PRELOAD.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <string.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace {

struct Block {
  unsigned char* p;
  std::size_t n;
  unsigned char tag;
};

struct Mailbox {  // blocks handed to a thread to free
  std::mutex m;
  std::vector<Block> blocks;
};

std::uint64_t next(std::uint64_t& s) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

bool intact(const Block& b) {
  for (std::size_t k = 0; k < b.n; k += 37)
    if (b.p[k] != b.tag) return false;
  return b.n == 0 || b.p[b.n - 1] == b.tag;
}

}  // namespace

TEST_CASE("stress: 8 threads, random sizes and lifetimes, cross-thread frees, contents verified") {
  constexpr int kThreads = 8;
  constexpr int kRounds = 40;
  constexpr int kOpsPerRound = 60000;
  std::vector<Mailbox> mail(kThreads);
  std::atomic<long> corrupted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::uint64_t rng = 0x2545F4914F6CDD1Dull * static_cast<std::uint64_t>(t + 1);
      std::vector<Block> live(2000, Block{nullptr, 0, 0});
      for (int round = 0; round < kRounds; ++round) {
        for (int op = 0; op < kOpsPerRound; ++op) {
          Block& b = live[next(rng) % live.size()];
          if (b.p != nullptr) {
            if (!intact(b)) ++corrupted;
            if (next(rng) % 4 == 0) {  // hand it over: the next thread frees it
              Mailbox& box = mail[static_cast<std::size_t>((t + 1) % kThreads)];
              std::lock_guard<std::mutex> lock(box.m);
              box.blocks.push_back(b);
            } else if (next(rng) % 8 == 0) {
              std::size_t n = next(rng) % 3000;
              b.p = static_cast<unsigned char*>(realloc(b.p, n + 1));
              b.n = n + 1;
              memset(b.p, b.tag, b.n);
              continue;
            } else {
              free(b.p);
            }
          }
          std::uint64_t r = next(rng);
          b.n = r % 16 == 0 ? (r >> 8) % 300000 : (r >> 8) % 700;
          b.tag = static_cast<unsigned char>(r >> 40);
          b.p = static_cast<unsigned char*>(malloc(b.n));
          memset(b.p, b.tag, b.n);
        }
        std::vector<Block> mine;
        {
          std::lock_guard<std::mutex> lock(mail[static_cast<std::size_t>(t)].m);
          mine.swap(mail[static_cast<std::size_t>(t)].blocks);
        }
        for (Block& b : mine) {
          if (!intact(b)) ++corrupted;
          free(b.p);
        }
      }
      for (Block& b : live)
        if (b.p != nullptr) {
          if (!intact(b)) ++corrupted;
          free(b.p);
        }
    });
  }
  for (auto& t : threads) t.join();
  for (Mailbox& box : mail)
    for (Block& b : box.blocks) {
      if (!intact(b)) ++corrupted;
      free(b.p);
    }
  CHECK(corrupted == 0);
}
