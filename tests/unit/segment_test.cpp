// Segments, the page map, large spans and huge mappings, via the C API.
#include <doctest/doctest.h>

#include <time.h>

#include <cstring>
#include <vector>

#include "api/alloc.hpp"
#include "fastpool/fastpool.h"
#include "os/os.hpp"
#include "segment/huge.hpp"

using namespace fastpool;

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
