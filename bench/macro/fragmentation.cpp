// Fragmentation: allocate ~1 GB in mixed sizes, free a random 90%, then allocate the freed
// amount again with fresh random sizes from the same mix. Prints, for the harness, the RSS and
// live bytes right after the free phase and at the end (after the re-allocation):
//   freed_rss_bytes=N freed_live_bytes=M final_rss_bytes=N live_bytes=M
// Live bytes are the sum of the requested sizes of the blocks held at that moment; every one
// of them has been written in full, so an ideal allocator's RSS equals it (plus the program).
#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common.hpp"

namespace {

constexpr double kTotalBytes = 1024.0 * 1024 * 1024;

struct Block {
  unsigned char* p = nullptr;
  std::size_t size = 0;
};

// Log-uniform between 16 B and 64 KiB: many small blocks, most bytes in large ones.
std::size_t mixed_size(bench::Rng& rng) {
  const double u = static_cast<double>(rng.next() >> 11) / 9007199254740992.0;
  return static_cast<std::size_t>(16.0 * std::pow(4096.0, u));
}

void fill(Block& b, bench::Rng& rng) {
  b.size = mixed_size(rng);
  b.p = static_cast<unsigned char*>(std::malloc(b.size));
  bench::check(b.p != nullptr, "malloc returned null");
  // Written in full so the block is resident: live bytes and RSS measure the same thing.
  std::memset(b.p, static_cast<int>(b.size & 0xff), b.size);
}

void verify(const Block& b) {
  const auto want = static_cast<unsigned char>(b.size & 0xff);
  bench::check(b.p[0] == want && b.p[b.size / 2] == want && b.p[b.size - 1] == want,
               "block corrupted");
}

std::size_t resident_bytes() {
  long pages_total = 0, pages_resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  bench::check(f != nullptr, "cannot read /proc/self/statm");
  bench::check(std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) == 2, "statm format");
  std::fclose(f);
  return static_cast<std::size_t>(pages_resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// Checks every held block on the way.
std::size_t live_bytes(const std::vector<Block>& blocks) {
  std::size_t live = 0;
  for (const Block& b : blocks) {
    if (!b.p) continue;
    verify(b);
    live += b.size;
  }
  return live;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args args = bench::parse_args(argc, argv);
  const double target = kTotalBytes * args.scale;
  bench::Rng rng(90);

  std::vector<Block> blocks;
  double allocated = 0;
  while (allocated < target) {
    blocks.emplace_back();
    fill(blocks.back(), rng);
    allocated += static_cast<double>(blocks.back().size);
  }

  // Free a random 90%, remembering the holes' slots for the re-allocation.
  double freed = 0;
  std::vector<std::size_t> holes;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (rng.next() % 10 == 0) continue;
    verify(blocks[i]);
    std::free(blocks[i].p);
    freed += static_cast<double>(blocks[i].size);
    blocks[i] = Block{};
    holes.push_back(i);
  }

  const std::size_t freed_rss = resident_bytes();
  const std::size_t freed_live = live_bytes(blocks);

  double reallocated = 0;
  for (std::size_t slot : holes) {
    if (reallocated >= freed) break;
    fill(blocks[slot], rng);
    reallocated += static_cast<double>(blocks[slot].size);
  }

  const std::size_t final_rss = resident_bytes();
  std::printf("freed_rss_bytes=%zu freed_live_bytes=%zu final_rss_bytes=%zu live_bytes=%zu\n",
              freed_rss, freed_live, final_rss, live_bytes(blocks));
  for (const Block& b : blocks) std::free(b.p);
  return 0;
}
