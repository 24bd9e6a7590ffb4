// Server-like (the larson shape): every thread keeps a random live set of random-sized blocks
// and replaces a random one each step. Between epochs the live sets rotate to the next thread,
// so every block is freed by a thread other than the one that allocated it.
#include <barrier>
#include <cstdlib>
#include <thread>
#include <vector>

#include "common.hpp"

namespace {

constexpr int kSlots = 2000;          // live blocks per thread
constexpr int kEpochs = 20;           // live-set hand-overs
constexpr long kTotalOps = 50000000;  // replacements across all threads; same for 2 or 8 threads

struct Slot {
  void* p = nullptr;
  std::size_t size = 0;
  std::uint64_t tag = 0;
};

void replace(Slot& s, bench::Rng& rng) {
  if (s.p) {
    bench::verify(s.p, s.size, s.tag);
    std::free(s.p);
  }
  s.size = rng.range(16, 1024);
  s.tag = rng.next();
  s.p = std::malloc(s.size);
  bench::stamp(s.p, s.size, s.tag);
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args args = bench::parse_args(argc, argv);
  const int threads = args.threads;
  const long ops_per_epoch = bench::scaled(kTotalOps, args) / threads / kEpochs;

  std::vector<std::vector<Slot>> live(threads, std::vector<Slot>(kSlots));
  std::barrier sync(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      bench::Rng rng(1000 + t);
      for (int e = 0; e < kEpochs; ++e) {
        // Epoch e works on the live set another thread filled in epoch e - 1.
        std::vector<Slot>& set = live[(t + e) % threads];
        for (long i = 0; i < ops_per_epoch; ++i) replace(set[rng.next() % kSlots], rng);
        sync.arrive_and_wait();
      }
    });
  }
  for (auto& th : pool) th.join();

  for (auto& set : live) {
    for (Slot& s : set) {
      if (!s.p) continue;
      bench::verify(s.p, s.size, s.tag);
      std::free(s.p);
    }
  }
  return 0;
}
