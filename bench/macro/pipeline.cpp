// A pipeline of 4 threads: stage 0 allocates messages, stages 1 and 2 each copy the message
// into a fresh block of another size and free the old one, stage 3 checks and frees. Every
// block is freed by a different thread from the one that allocated it.
#include <cstdlib>
#include <thread>
#include <vector>

#include "common.hpp"
#include "handoff_queue.hpp"

namespace {

constexpr long kMessages = 2000000;
constexpr std::size_t kBatch = 128;
constexpr int kStages = 4;

struct Message {
  unsigned char* data;
  std::size_t size;
  std::uint64_t seq;
};

// The expected payload byte i of message seq: stages can recompute and check it.
unsigned char payload(std::uint64_t seq, std::size_t i) {
  return static_cast<unsigned char>(seq * 31 + i);
}

Message make(std::uint64_t seq, bench::Rng& rng) {
  Message m{nullptr, rng.range(32, 2048), seq};
  m.data = static_cast<unsigned char*>(std::malloc(m.size));
  bench::check(m.data != nullptr, "malloc returned null");
  for (std::size_t i = 0; i < m.size; ++i) m.data[i] = payload(seq, i);
  return m;
}

void check_payload(const Message& m, std::size_t n) {
  // Checking the ends and a stride keeps the check cheap next to the allocation cost.
  for (std::size_t i = 0; i < n; i += 61) bench::check(m.data[i] == payload(m.seq, i), "payload");
  bench::check(m.data[n - 1] == payload(m.seq, n - 1), "payload tail");
}

// Re-allocates the message at a new size and keeps the common prefix.
void reshape(Message& m, bench::Rng& rng) {
  const std::size_t size = rng.range(32, 2048);
  auto* data = static_cast<unsigned char*>(std::malloc(size));
  bench::check(data != nullptr, "malloc returned null");
  const std::size_t keep = size < m.size ? size : m.size;
  check_payload(m, keep);
  for (std::size_t i = 0; i < size; ++i) data[i] = payload(m.seq, i);
  std::free(m.data);
  m.data = data;
  m.size = size;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args args = bench::parse_args(argc, argv);
  const long messages = bench::scaled(kMessages, args);
  std::vector<bench::HandoffQueue<Message>> links(kStages - 1);

  std::vector<std::thread> stages;
  stages.emplace_back([&] {
    bench::Rng rng(11);
    std::vector<Message> batch;
    for (long s = 0; s < messages; ++s) {
      batch.push_back(make(s, rng));
      if (batch.size() == kBatch) links[0].push(std::move(batch)), batch.clear();
    }
    if (!batch.empty()) links[0].push(std::move(batch));
    links[0].close();
  });
  for (int k = 1; k < kStages - 1; ++k) {
    stages.emplace_back([&, k] {
      bench::Rng rng(11 + k);
      std::vector<Message> batch;
      while (links[k - 1].pop(batch)) {
        for (Message& m : batch) reshape(m, rng);
        links[k].push(std::move(batch));
      }
      links[k].close();
    });
  }
  long seen = 0;
  stages.emplace_back([&] {
    std::vector<Message> batch;
    while (links[kStages - 2].pop(batch)) {
      for (Message& m : batch) {
        bench::check(m.seq == static_cast<std::uint64_t>(seen++), "messages out of order");
        check_payload(m, m.size);
        std::free(m.data);
      }
    }
  });
  for (auto& th : stages) th.join();
  bench::check(seen == messages, "messages lost");
  return 0;
}
