// Producer/consumer (the xmalloc shape): producer threads malloc, consumer threads free.
// --threads=N runs N/2 independent producer->consumer pairs (N=2: one pair; N=8: four).
#include <cstdlib>
#include <deque>
#include <thread>
#include <vector>

#include "common.hpp"
#include "handoff_queue.hpp"

namespace {

constexpr long kTotalBlocks = 15000000;  // across all pairs
constexpr std::size_t kBatch = 1024;     // blocks per hand-over: large, so the lock is rare

struct Block {
  void* p;
  std::size_t size;
  std::uint64_t tag;
};

void produce(bench::HandoffQueue<Block>& q, long blocks, std::uint64_t seed) {
  bench::Rng rng(seed);
  std::vector<Block> batch;
  for (long i = 0; i < blocks; ++i) {
    Block b{nullptr, rng.range(16, 512), rng.next()};
    b.p = std::malloc(b.size);
    bench::stamp(b.p, b.size, b.tag);
    batch.push_back(b);
    if (batch.size() == kBatch || i + 1 == blocks) q.push(std::move(batch)), batch.clear();
  }
  q.close();
}

void consume(bench::HandoffQueue<Block>& q) {
  std::vector<Block> batch;
  while (q.pop(batch)) {
    for (const Block& b : batch) {
      bench::verify(b.p, b.size, b.tag);
      std::free(b.p);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args args = bench::parse_args(argc, argv);
  const int pairs = args.threads >= 2 ? args.threads / 2 : 1;
  const long per_pair = bench::scaled(kTotalBlocks, args) / pairs;

  // A deque: queues hold a mutex, so they are built in place; 16 batches bound a queue's blocks.
  std::deque<bench::HandoffQueue<Block>> queues;
  for (int i = 0; i < pairs; ++i) queues.emplace_back(16);
  std::vector<std::thread> pool;
  for (int i = 0; i < pairs; ++i) {
    pool.emplace_back(produce, std::ref(queues[i]), per_pair, 7 + i);
    pool.emplace_back(consume, std::ref(queues[i]));
  }
  for (auto& th : pool) th.join();
  return 0;
}
