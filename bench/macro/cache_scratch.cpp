// False sharing (the cache-scratch shape): one thread allocates a small object for each worker
// back to back; each worker writes its object, frees it, then repeatedly allocates a small
// object of its own and writes it. An allocator that hands neighbouring bytes of one cache
// line to different threads makes the writes fight over that line.
#include <cstdlib>
#include <thread>
#include <vector>

#include "common.hpp"

namespace {

constexpr std::size_t kObjectSize = 8;
// The writes dominate the time, as in Hoard's cache-scratch: the allocator shows in how much
// it slows them by placing two threads' objects in one cache line.
constexpr long kTotalRounds = 1600000;  // allocate-write-free rounds, split over the threads
constexpr int kWritesPerRound = 250;    // writes to the object each round

void hammer(volatile unsigned char* obj, unsigned char seed) {
  for (int w = 0; w < kWritesPerRound; ++w) {
    for (std::size_t b = 0; b < kObjectSize; ++b)
      obj[b] = static_cast<unsigned char>(obj[b] + seed);
  }
}

void check_object(const volatile unsigned char* obj, unsigned char seed) {
  // Each byte started at 0 and gained seed kWritesPerRound times (mod 256).
  const auto want = static_cast<unsigned char>(seed * kWritesPerRound);
  for (std::size_t b = 0; b < kObjectSize; ++b) bench::check(obj[b] == want, "object corrupted");
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args args = bench::parse_args(argc, argv);
  const int threads = args.threads;
  const long rounds = bench::scaled(kTotalRounds, args) / threads;

  // Allocated consecutively by this thread: the passive false-sharing half of the test.
  std::vector<unsigned char*> handed(threads);
  for (auto& p : handed) {
    p = static_cast<unsigned char*>(std::calloc(1, kObjectSize));
    bench::check(p != nullptr, "calloc returned null");
  }

  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const auto seed = static_cast<unsigned char>(t * 2 + 1);
      hammer(handed[t], seed);
      check_object(handed[t], seed);
      std::free(handed[t]);
      for (long r = 0; r < rounds; ++r) {
        auto* obj = static_cast<unsigned char*>(std::calloc(1, kObjectSize));
        bench::check(obj != nullptr, "calloc returned null");
        hammer(obj, seed);
        check_object(obj, seed);
        std::free(obj);
      }
    });
  }
  for (auto& th : pool) th.join();
  return 0;
}
