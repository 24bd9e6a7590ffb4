// Blocks crossing threads: producer/consumer frees with contents checked, thread churn
// with blocks freed after their thread is gone, and fork from a threaded process.
#include <doctest/doctest.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "owns.hpp"

namespace {

// A single-producer single-consumer ring, so the test itself does not allocate.
struct Ring {
  static constexpr std::size_t kSize = 1024;
  void* slots[kSize];
  std::atomic<std::size_t> head{0}, tail{0};
  void push(void* p) {
    std::size_t h = head.load(std::memory_order_relaxed);
    while (h - tail.load(std::memory_order_acquire) == kSize) std::this_thread::yield();
    slots[h % kSize] = p;
    head.store(h + 1, std::memory_order_release);
  }
  void* pop() {
    std::size_t t = tail.load(std::memory_order_relaxed);
    while (head.load(std::memory_order_acquire) == t) std::this_thread::yield();
    void* p = slots[t % kSize];
    tail.store(t + 1, std::memory_order_release);
    return p;
  }
};

std::size_t size_for(std::uint64_t i) {
  return 8 + (i * 2654435761u) % 3000;
}

void fill(void* p, std::size_t n, std::uint64_t tag) {
  auto* b = static_cast<unsigned char*>(p);
  for (std::size_t k = 0; k < n; ++k) b[k] = static_cast<unsigned char>(tag + k);
}
bool intact(void* p, std::size_t n, std::uint64_t tag) {
  auto* b = static_cast<unsigned char*>(p);
  for (std::size_t k = 0; k < n; ++k)
    if (b[k] != static_cast<unsigned char>(tag + k)) return false;
  return true;
}

}  // namespace

TEST_CASE("producer/consumer pairs: blocks freed by another thread, contents intact") {
  constexpr int kPairs = 2;
  constexpr std::uint64_t kPerPair = 200000;
  std::atomic<int> corrupted{0};
  std::vector<Ring> rings(kPairs);
  std::vector<std::thread> threads;
  for (int r = 0; r < kPairs; ++r) {
    threads.emplace_back([&, r] {
      for (std::uint64_t i = 0; i < kPerPair; ++i) {
        void* p = malloc(size_for(i));
        fill(p, size_for(i), i + static_cast<std::uint64_t>(r));
        rings[r].push(p);
      }
    });
    threads.emplace_back([&, r] {
      for (std::uint64_t i = 0; i < kPerPair; ++i) {
        void* p = rings[r].pop();
        if (!intact(p, size_for(i), i + static_cast<std::uint64_t>(r))) ++corrupted;
        free(p);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(corrupted == 0);
}

TEST_CASE("thread churn: blocks outlive their threads and are reused, not leaked") {
  constexpr int kRounds = 40;
  constexpr int kBlocks = 2000;
  std::vector<void*> survivors(kBlocks);
  std::size_t mapped_after_first = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::thread t([&] {
      for (int i = 0; i < kBlocks; ++i) {
        survivors[i] = malloc(size_for(static_cast<std::uint64_t>(i)));
        fill(survivors[i], size_for(static_cast<std::uint64_t>(i)),
             static_cast<std::uint64_t>(round));
      }
      void* scratch = malloc(100000);  // freed by its own thread
      free(scratch);
    });
    t.join();
    // The thread is gone; its blocks are freed from here.
    int bad = 0;
    for (int i = 0; i < kBlocks; ++i) {
      if (!intact(survivors[i], size_for(static_cast<std::uint64_t>(i)),
                  static_cast<std::uint64_t>(round)))
        ++bad;
      free(survivors[i]);
    }
    CHECK(bad == 0);
    // Memory use must not grow with the number of threads that came and went.
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    long size = 0;
    REQUIRE(std::fscanf(f, "%ld", &size) == 1);
    std::fclose(f);
    auto vm = static_cast<std::size_t>(size);
    if (round == 5) mapped_after_first = vm;
    if (round > 5) CHECK(vm <= mapped_after_first + 4096);  // pages: 16 MiB of slack
  }
}

TEST_CASE("many threads that never called malloc before free other threads' blocks") {
  std::vector<void*> blocks(8 * 5000);
  for (std::size_t i = 0; i < blocks.size(); ++i) blocks[i] = malloc(size_for(i));
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (std::size_t i = static_cast<std::size_t>(t); i < blocks.size(); i += 8) free(blocks[i]);
    });
  for (auto& t : threads) t.join();
  // The owner collects the remote frees and reuses the memory.
  std::vector<void*> again(blocks.size());
  for (std::size_t i = 0; i < again.size(); ++i) again[i] = malloc(size_for(i));
  for (void* p : again) free(p);
  CHECK(true);
}

TEST_CASE("fork from a multithreaded process: the child allocates and frees normally") {
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (int t = 0; t < 3; ++t)
    busy.emplace_back([&] {
      std::vector<void*> live;
      std::uint64_t i = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        live.push_back(malloc(size_for(i++)));
        if (live.size() > 500) {
          for (void* p : live) free(p);
          live.clear();
        }
      }
      for (void* p : live) free(p);
    });
  for (int f = 0; f < 20; ++f) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      std::vector<void*> blocks;
      for (std::uint64_t i = 0; i < 20000; ++i) {
        void* p = malloc(size_for(i));
        fill(p, size_for(i), i);
        blocks.push_back(p);
      }
      int bad = 0;
      for (std::uint64_t i = 0; i < blocks.size(); ++i) {
        if (!intact(blocks[i], size_for(i), i)) ++bad;
        free(blocks[i]);
      }
      std::thread t([] { free(malloc(1000)); });
      t.join();
      _exit(bad == 0 && fastpool_owns(blocks.data()) ? 0 : 1);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  stop = true;
  for (auto& t : busy) t.join();
}
