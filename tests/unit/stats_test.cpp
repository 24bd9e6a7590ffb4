// Statistics (fp_get_stats) and glibc's introspection calls answered with fastpool's
// figures. Built twice like the API rules: linked with fastpool::override, and plain
// under LD_PRELOAD (then fp_* resolve to the preloaded library).
#include <fcntl.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "doctest/doctest.h"
#include "fastpool/fastpool.h"

namespace {

fp_stats stats() {
  fp_stats s;
  fp_get_stats(&s);
  return s;
}

std::size_t class_of(const fp_stats& s, std::size_t block) {
  for (std::size_t c = 0; c < s.class_count; ++c)
    if (s.classes[c].block_size == block) return c;
  FAIL("no class of " << block << " bytes");
  return 0;
}

// What f writes to stderr, run in a child.
template <class F>
std::string stderr_of(F f) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    f();
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  return out;
}

std::vector<void*> malloc_many(int n, std::size_t size) {
  std::vector<void*> blocks;
  for (int i = 0; i < n; ++i) blocks.push_back(std::malloc(size));
  return blocks;
}

// Runs `busy` on a thread that then stays alive and idle, owning its heap, while
// `observe` runs here; then `rest` on that thread, and joins it.
template <class Busy, class Observe, class Rest>
void with_idle_thread(Busy busy, Observe observe, Rest rest) {
  std::mutex m;
  std::condition_variable cv;
  bool ready = false, done = false;
  std::thread worker([&] {
    busy();
    std::unique_lock lock(m);
    ready = true;
    cv.notify_all();
    cv.wait(lock, [&] { return done; });
    rest();
  });
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return ready; });
  }
  observe();
  {
    std::lock_guard lock(m);
    done = true;
  }
  cv.notify_all();
  worker.join();
}
}  // namespace

TEST_CASE("the struct is versioned and a shorter one gets its prefix") {
  fp_stats s = stats();
  CHECK(s.version == FP_STATS_VERSION);
  CHECK(s.size == sizeof(fp_stats));
  CHECK(s.class_count > 0);
  CHECK(s.class_count <= FP_STATS_MAX_CLASSES);
  std::vector<unsigned char> small(64, 0xAB);
  CHECK(fp_stats_read(reinterpret_cast<fp_stats*>(small.data()), 48) == 48);
  CHECK(small[48] == 0xAB);  // nothing written past the size asked for
  unsigned size;
  std::memcpy(&size, small.data() + sizeof(unsigned), sizeof size);
  CHECK(size == 48);
}

TEST_CASE("blocks in use are exact for the calling thread") {
  constexpr int kN = 5000;
  fp_stats before = stats();
  std::size_t c = class_of(before, 48);
  std::vector<void*> blocks;
  for (int i = 0; i < kN; ++i) blocks.push_back(std::malloc(48));
  fp_stats during = stats();
  CHECK(during.classes[c].blocks_in_use == before.classes[c].blocks_in_use + kN);
  CHECK(during.blocks_in_use >= before.blocks_in_use + kN);
  CHECK(during.bytes_allocated >= before.bytes_allocated + kN * 48);
  CHECK(during.classes[c].pages >= 1);
  // Half freed in the middle (counted pages), half at the end (the current page).
  for (int i = 0; i < kN; i += 2) std::free(blocks[i]);
  CHECK(stats().classes[c].blocks_in_use == before.classes[c].blocks_in_use + kN / 2);
  for (int i = 1; i < kN; i += 2) std::free(blocks[i]);
  fp_stats after = stats();
  CHECK(after.classes[c].blocks_in_use == before.classes[c].blocks_in_use);
}

TEST_CASE("large and huge blocks are counted with their bytes") {
  fp_stats before = stats();
  void* large = std::malloc(1 << 20);
  void* huge = std::malloc(std::size_t{8} << 20);
  REQUIRE(large != nullptr);
  REQUIRE(huge != nullptr);
  fp_stats during = stats();
  CHECK(during.large_blocks == before.large_blocks + 1);
  CHECK(during.large_bytes >= before.large_bytes + (1 << 20));
  CHECK(during.huge_blocks == before.huge_blocks + 1);
  CHECK(during.huge_bytes >= before.huge_bytes + (std::size_t{8} << 20));
  CHECK(during.bytes_allocated >= before.bytes_allocated + (std::size_t{9} << 20));
  struct mallinfo2 mi = mallinfo2();
  CHECK(mi.hblks == during.huge_blocks);
  CHECK(mi.hblkhd >= std::size_t{8} << 20);
  CHECK(mi.uordblks >= std::size_t{1} << 20);
  CHECK(mi.arena == during.segments * (std::size_t{4} << 20));
  std::free(large);
  std::free(huge);
  fp_stats after = stats();
  CHECK(after.large_blocks == before.large_blocks);
  CHECK(after.huge_blocks == before.huge_blocks);
  // A huge mapping of a size freed before waits for reuse: 8 MiB is within what the
  // cache keeps next to a small heap (segment/huge.cpp). The first free of the largest
  // size yet may have gone back at once (segment/largest_freed.hpp).
  std::free(std::malloc(std::size_t{8} << 20));
  CHECK(stats().bytes_cached >= std::size_t{8} << 20);
}

TEST_CASE("remote frees are sent, collected and leave the counts exact") {
  constexpr int kN = 3000;
  fp_stats before = stats();
  std::size_t c = class_of(before, 64);
  std::vector<void*> blocks;
  for (int i = 0; i < kN; ++i) blocks.push_back(std::malloc(64));
  std::thread([&] {
    for (void* p : blocks) std::free(p);
  }).join();
  fp_stats sent = stats();
  CHECK(sent.remote_frees_sent >= before.remote_frees_sent + kN);
  CHECK(malloc_trim(0) >= 0);  // collects this thread's remote frees
  fp_stats after = stats();
  CHECK(after.remote_frees_collected >= before.remote_frees_collected + kN);
  CHECK(after.classes[c].blocks_in_use == before.classes[c].blocks_in_use);
  CHECK(after.trims == before.trims + 1);
}

TEST_CASE("an exited thread's blocks stay counted in its abandoned heap") {
  constexpr int kN = 2000;
  fp_stats before = stats();
  std::size_t c = class_of(before, 96);
  std::vector<void*> blocks;
  std::thread([&] {
    for (int i = 0; i < kN; ++i) blocks.push_back(std::malloc(96));
  }).join();
  fp_stats after = stats();
  CHECK(after.classes[c].blocks_in_use == before.classes[c].blocks_in_use + kN);
  CHECK(after.heaps_abandoned >= 1);
  for (void* p : blocks) std::free(p);
  malloc_trim(0);
}

TEST_CASE("an idle live thread's current and other pages are counted exactly") {
  constexpr int kN = 1500;  // several pages of 112 bytes: the first ones full, the last current
  // It frees 100 blocks, then idles: on its current page (every other of the last 200),
  // or on its first pages (counted in the page alone: read_stats adds what the heap lags).
  for (int first : {kN - 200, 0}) {
    CAPTURE(first);
    int step = first == 0 ? 1 : 2;
    fp_stats before = stats();
    std::size_t c = class_of(before, 112);
    std::vector<void*> blocks;
    with_idle_thread(
        [&] {
          blocks = malloc_many(kN, 112);
          for (int i = first; i < first + 100 * step; i += step) std::free(blocks[i]);
          for (int i = first; i < first + 100 * step; i += step) blocks[i] = nullptr;
        },
        [&] {
          CHECK(stats().classes[c].blocks_in_use == before.classes[c].blocks_in_use + kN - 100);
        },
        [&] {
          for (void* p : blocks) std::free(p);
        });
    CHECK(stats().classes[c].blocks_in_use == before.classes[c].blocks_in_use);
  }
}

TEST_CASE("a forked child counts the blocks its parent's other threads held") {
  constexpr int kN = 300;  // 112-byte blocks on the thread's current page, kept live
  fp_stats before = stats();
  std::size_t c = class_of(before, 112);
  std::vector<void*> blocks;
  with_idle_thread([&] { blocks = malloc_many(kN, 112); },
                   [&] {
                     pid_t pid = fork();
                     if (pid == 0) {  // that thread is gone here; its current page is counted on
                       bool exact =
                           stats().classes[c].blocks_in_use == before.classes[c].blocks_in_use + kN;
                       _exit(exact ? 0 : 1);
                     }
                     int status = 0;
                     REQUIRE(waitpid(pid, &status, 0) == pid);
                     CHECK(WIFEXITED(status));
                     CHECK(WEXITSTATUS(status) == 0);
                   },
                   [&] {
                     for (void* p : blocks) std::free(p);
                   });
}

TEST_CASE("malloc_trim says whether memory went back") {
  std::vector<void*> blocks;
  for (int i = 0; i < 100000; ++i) blocks.push_back(std::malloc(256));  // ~25 MiB
  for (void* p : blocks) std::free(p);
  fp_stats before = stats();
  CHECK(malloc_trim(0) == 1);
  fp_stats after = stats();
  CHECK(after.bytes_purged > before.bytes_purged);
  CHECK(after.purges > before.purges);
  CHECK(malloc_trim(0) == 0);  // nothing left to give back
}

TEST_CASE("mallopt: M_TRIM_THRESHOLD is the segment cache, other options are refused") {
  CHECK(mallopt(M_MMAP_THRESHOLD, 1 << 20) == 0);
  CHECK(mallopt(M_ARENA_MAX, 2) == 0);
  CHECK(mallopt(M_MXFAST, 0) == 0);
  CHECK(mallopt(M_TRIM_THRESHOLD, 16 << 20) == 1);
  CHECK(mallopt(M_TRIM_THRESHOLD, 32 << 20) == 1);  // 8 segments: the default again
}

TEST_CASE("malloc_info writes glibc's XML layout") {
  void* keep = std::malloc(100);
  char* text = nullptr;
  std::size_t len = 0;
  FILE* f = open_memstream(&text, &len);
  REQUIRE(f != nullptr);
  CHECK(malloc_info(0, f) == 0);
  std::fclose(f);
  std::string xml(text, len);
  std::free(text);
  CHECK(xml.rfind("<malloc version=\"1\">\n<heap nr=\"0\">\n<sizes>\n", 0) == 0);
  CHECK(xml.find("<total type=\"mmap\"") != std::string::npos);
  CHECK(xml.find("<system type=\"current\" size=\"") != std::string::npos);
  CHECK(xml.substr(xml.size() - 10) == "</malloc>\n");
  errno = 0;
  CHECK(malloc_info(1, stdout) == EINVAL);  // glibc 2.36's answer
  CHECK(errno == 0);
  std::free(keep);
}

TEST_CASE("malloc_stats and fp_print_stats print the table on stderr") {
  std::string out = stderr_of([] {
    void* p = std::malloc(40);
    malloc_stats();
    std::free(p);
  });
  CHECK(out.find("fastpool statistics") != std::string::npos);
  CHECK(out.find("blocks in use") != std::string::npos);
  CHECK(out.find("size classes") != std::string::npos);
  CHECK(stderr_of([] { fp_print_stats(); }).find("heaps") != std::string::npos);
}
