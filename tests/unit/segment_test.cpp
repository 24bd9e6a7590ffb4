// Segments, the page map, large spans and huge mappings, via the C API.
#include <doctest/doctest.h>

#include <time.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "api/alloc.hpp"
#include "fastpool/fastpool.h"
#include "os/os.hpp"
#include "segment/huge.hpp"
#include "segment/page_map.hpp"

using namespace fastpool;

namespace {
// The permissions /proc/self/maps gives the mapping holding p ("r--s"), or "".
std::string maps_perms(const void* p) {
  auto a = reinterpret_cast<std::uintptr_t>(p);
  std::FILE* f = std::fopen("/proc/self/maps", "r");
  char line[512], perms[8];
  unsigned long lo, hi;
  std::string found;
  while (found.empty() && std::fgets(line, sizeof line, f) != nullptr)
    if (std::sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && lo <= a && a < hi) found = perms;
  std::fclose(f);
  return found;
}
int maps_count() {
  std::FILE* f = std::fopen("/proc/self/maps", "r");
  int n = 0;
  for (int c; (c = std::fgetc(f)) != EOF;) n += c == '\n';
  std::fclose(f);
  return n;
}
}  // namespace

// First in the file: the process has made few leaves yet, so this one is made of views.
TEST_CASE("page-map leaves cost a page where entries are written, not 32 KiB each") {
  // A 256 MiB stretch no mapping of this process uses: a leaf of its own.
  auto* base = reinterpret_cast<char*>(std::uintptr_t{0x5f00} << 32);
  const std::size_t page_span = 512 * kSliceSize;  // the slices one 4 KiB leaf page covers
  Page fake{};
  std::size_t before = page_map::leaf_bytes();
  REQUIRE(page_map::set(base, kSliceSize, &fake));
  CHECK(page_map::leaf_bytes() == before + 4096);
  REQUIRE(page_map::set(base + 3 * page_span, 2 * kSliceSize, &fake));
  CHECK(page_map::leaf_bytes() == before + 2 * 4096);
  CHECK(page_map::find(base) == &fake);
  CHECK(page_map::find(base + 3 * page_span + kSliceSize) == &fake);
  // Entries in pages never written read the sentinel (views of the shared page).
  CHECK(page_map::find(base + kSliceSize) == &g_empty_page);
  CHECK(page_map::find(base + page_span) == &g_empty_page);
  CHECK(page_map::find(base + 7 * page_span + 100) == &g_empty_page);
  page_map::clear(base, 8 * page_span);  // also over pages that are still views
  CHECK(page_map::find(base) == &g_empty_page);
  CHECK(page_map::find(base + 3 * page_span + kSliceSize) == &g_empty_page);
  CHECK(page_map::leaf_bytes() == before + 2 * 4096);
  // The leaf every unused 256 MiB leads to is a view too, not 32 KiB of relocated data.
  CHECK(maps_perms(g_page_map.sentinel_leaf) == "r--s");
  CHECK(maps_perms(&g_page_map.sentinel_leaf[kLeafEntries - 1]) == "r--s");
}

TEST_CASE("leaves of views are few: a process spread over many leaves keeps few mappings") {
  auto* base = reinterpret_cast<char*>(std::uintptr_t{0x6f00} << 32);
  constexpr std::size_t kLeafSpan = std::size_t{1} << kLeafShift;
  Page fake{};
  int maps_before = maps_count();
  std::size_t bytes_before = page_map::leaf_bytes();
  for (int i = 0; i < 12; ++i) REQUIRE(page_map::set(base + i * kLeafSpan, kSliceSize, &fake));
  // At most 8 leaves of views (8 mappings each); the rest written out, 32 KiB each.
  CHECK(maps_count() - maps_before <= 8 * 8 + 4);
  CHECK(page_map::leaf_bytes() - bytes_before >= 4 * kLeafBytes);
  for (int i = 0; i < 12; ++i) {
    CHECK(page_map::find(base + i * kLeafSpan) == &fake);
    CHECK(page_map::find(base + i * kLeafSpan + kSliceSize) == &g_empty_page);
  }
  page_map::clear(base, 12 * kLeafSpan);
  CHECK(page_map::find(base + 5 * kLeafSpan) == &g_empty_page);
}

TEST_CASE("a small block finds its page through the page map") {
  for (std::size_t n : {8, 16, 100, 1024, 5000, 20000, 32768}) {
    void* p = fp_malloc(n);
    Segment* s = segment_of(p);
    CHECK(s->magic == kSegmentMagic);
    Page* pg = page_of(p);
    CHECK(pg >= s->pages);
    CHECK(pg < s->pages + kSlicesPerSegment);
    CHECK(pg->kind == PageKind::small);
    CHECK(class_size(pg->size_class) == fp_usable_size(p));
    CHECK(pg->pool.contains(p));
    CHECK(s->heap == tls_heap);
    fp_free(p);
  }
}

TEST_CASE("large blocks take spans of slices and give them back") {
  void* p = fp_malloc(1000000);
  Segment* s = segment_of(p);
  Page* pg = page_of(p);
  CHECK(pg->kind == PageKind::large);
  CHECK(pg->slice_count == 16);                          // 1000000 bytes -> 16 slices
  CHECK(page_of(static_cast<char*>(p) + 950000) == pg);  // interior slices lead to the span
  CHECK(fp_usable_size(p) == 16 * kSliceSize);
  std::uint64_t free_before = s->free_slices;
  fp_free(p);
  CHECK((s->free_slices & ~free_before) != 0);
}

TEST_CASE("huge blocks get a mapping of their own and go back on free") {
  fp_stats before, during, after;
  fp_get_stats(&before);
  auto* p = static_cast<char*>(fp_malloc(64u << 20));
  REQUIRE(p != nullptr);
  CHECK(page_of(p)->kind == PageKind::huge);
  CHECK(huge_block(page_of(p)) == p);
  CHECK(page_of(p + (40u << 20)) == page_of(p));
  CHECK(fp_owns(p + (63u << 20)));
  p[0] = 1;
  p[(64u << 20) - 1] = 2;
  fp_get_stats(&during);
  CHECK(during.huge_blocks == before.huge_blocks + 1);
  CHECK(during.bytes_mapped >= before.bytes_mapped + (64u << 20));
  fp_free(p);
  fp_collect();  // the freed mapping waits in the huge cache until then
  fp_get_stats(&after);
  CHECK(after.huge_blocks == before.huge_blocks);
  CHECK(after.bytes_mapped < during.bytes_mapped);
  CHECK(!fp_owns(p));
}

TEST_CASE("segments whose pages are all free go back after collection") {
  std::vector<void*> blocks;
  for (int i = 0; i < 200000; ++i) blocks.push_back(fp_malloc(64));  // ~12 MiB: several segments
  fp_stats full, collected;
  fp_get_stats(&full);
  for (void* p : blocks) fp_free(p);
  fp_collect();
  fp_get_stats(&collected);
  CHECK(collected.segments < full.segments);
}

TEST_CASE("fp_owns tells fastpool memory from other memory") {
  int on_stack = 0;
  void* p = fp_malloc(10);
  CHECK(fp_owns(p));
  CHECK(!fp_owns(&on_stack));
  CHECK(!fp_owns(nullptr));
  CHECK(page_of(nullptr) == &g_empty_page);
  CHECK(page_map::find(reinterpret_cast<void*>(~std::uintptr_t{0})) == &g_empty_page);
  fp_free(p);
}

TEST_CASE("a thread adopting an exited thread's heap starts with its empty pages warm") {
  Heap* exited = nullptr;
  void* last_freed = nullptr;
  std::thread([&] {
    void* a[3];
    for (void*& p : a) p = fp_malloc(24);
    for (void* p : a) fp_free(p);
    last_freed = a[2];  // the head of its page's free list
    exited = tls_heap;
  }).join();
  Page* kept = exited->classes[size_class(24)].current();
  REQUIRE(kept != nullptr);
  CHECK(kept == page_of(last_freed));
  CHECK(exited->kept_since_ms != 0);
  // New threads adopt the longest-abandoned heap first: go round until one gets it.
  void* first = nullptr;
  for (std::size_t i = 0; i <= heap::heap_count() && first == nullptr; ++i)
    std::thread([&] {
      void* p = fp_malloc(24);
      if (tls_heap == exited) first = p;
      fp_free(p);
    }).join();
  // The page kept its free list: no span was taken, nothing carved again.
  CHECK(first == last_freed);
  // Unadopted, the kept pages go back on a trim (or after the purge delay).
  CHECK(exited->classes[size_class(24)].current() == kept);
  fp_collect();
  CHECK(exited->kept_since_ms == 0);
  CHECK(exited->classes[size_class(24)].current() == nullptr);
}

TEST_CASE("frees into a thread's other pages are counted inline; its word leaves them at exit") {
  constexpr int kN = 2000;  // 112-byte blocks: several pages, the first one full
  std::vector<void*> live;
  Page* first = nullptr;
  Heap* heap = nullptr;
  std::thread([&] {
    for (int i = 0; i < kN; ++i) live.push_back(fp_malloc(112));
    heap = tls_heap;
    first = page_of(live[0]);
    REQUIRE(first != page_of(live.back()));  // not the current page
    auto word = thread_owner_word() | kOwnerCounted;
    std::size_t used = first->pool.used();
    fp_free(live[0]);  // a full page: the slow path makes it available, under the word
    CHECK(first->owner.load() == word);
    std::uint32_t accounted = first->accounted;
    fp_free(live[2]);  // the fast path counts it in the page...
    CHECK(first->pool.used() == used - 2);
    CHECK(first->accounted == accounted);  // ...and the statistics later
    live.erase(live.begin() + 2);
    live.erase(live.begin());
  }).join();
  // Let go of with the heap: the heap's word (a new thread may get the same pointer), and
  // the counts caught up.
  CHECK(first->owner.load() == (reinterpret_cast<std::uintptr_t>(heap) | kOwnerCounted));
  CHECK(first->accounted == first->pool.used());
  for (void* p : live) fp_free(p);
}

TEST_CASE("threads started while trims hold the abandoned heaps wait for one, not make one") {
  std::thread([] { fp_free(fp_malloc(64)); }).join();  // at least one heap abandoned
  std::size_t before = heap::heap_count();
  std::atomic<bool> stop{false};
  std::thread trimmer([&] {
    while (!stop.load()) fp_collect();
  });
  for (int i = 0; i < 300; ++i) std::thread([] { fp_free(fp_malloc(64)); }).join();
  stop = true;
  trimmer.join();
  CHECK(heap::heap_count() <= before + 2);
}

TEST_CASE("the heap's clock (the vDSO's clock_gettime) reads CLOCK_MONOTONIC") {
  auto libc_ms = [] {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000 +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000000;
  };
  std::uint64_t before = libc_ms();
  std::uint64_t ours = fastpool::os::now_ms();
  std::uint64_t after = libc_ms();
  CHECK(ours >= before);
  CHECK(ours <= after);
}
