// Shared by the macro workloads: a fixed-seed RNG, argument parsing and the failure exit.
// Workloads are whole programs run under LD_PRELOAD, so nothing here may depend on fastpool.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bench {

// splitmix64: tiny, fast and identical on every platform, so a seed means the same run
// under every allocator (std::mt19937 distributions are not portable across libraries).
struct Rng {
  std::uint64_t state;
  explicit Rng(std::uint64_t seed) : state(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi]; the modulo bias is irrelevant for a workload generator.
  std::uint64_t range(std::uint64_t lo, std::uint64_t hi) { return lo + next() % (hi - lo + 1); }
};

// Corruption or a failed allocation: the harness treats a non-zero exit as a failed run.
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "workload check failed: %s\n", what);
  std::exit(1);
}

inline void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

// Every workload takes --threads=N and --scale=F (work multiplier; --quick uses < 1).
struct Args {
  int threads = 2;
  double scale = 1.0;
};

inline Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      args.threads = std::atoi(argv[i] + 10);
    } else if (std::strncmp(argv[i], "--scale=", 8) == 0) {
      args.scale = std::atof(argv[i] + 8);
    } else {
      std::fprintf(stderr, "usage: %s [--threads=N] [--scale=F]\n", argv[0]);
      std::exit(2);
    }
  }
  check(args.threads > 0 && args.scale > 0, "arguments must be positive");
  return args;
}

inline long scaled(long base, const Args& args) {
  long n = static_cast<long>(static_cast<double>(base) * args.scale);
  return n > 0 ? n : 1;
}

// A block stamped with its size and a tag at both ends, so a block that the allocator handed
// out twice, or that another block overwrote, fails the check when it is freed.
inline void stamp(void* p, std::size_t size, std::uint64_t tag) {
  check(p != nullptr, "allocation returned null");
  check(size >= 16, "stamped blocks are at least 16 bytes");
  std::memcpy(p, &tag, 8);
  std::memcpy(static_cast<char*>(p) + size - 8, &tag, 8);
}

inline void verify(const void* p, std::size_t size, std::uint64_t tag) {
  std::uint64_t head, tail;
  std::memcpy(&head, p, 8);
  std::memcpy(&tail, static_cast<const char*>(p) + size - 8, 8);
  check(head == tag && tail == tag, "block contents corrupted");
}

}  // namespace bench
