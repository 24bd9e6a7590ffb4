// glibc's introspection calls (mallinfo, mallopt, malloc_info) answered with fastpool's
// figures; override/malloc.cpp exports them.
#include <errno.h>
#include <malloc.h>

#include "api/stats.hpp"
#include "os/options.hpp"
#include "router/heap.hpp"

namespace fastpool {

// glibc's mallinfo fields, where they have a meaning here: the arena is the segments
// (small and large blocks), mmapped blocks the huge mappings.
MallInfo mallinfo_figures() noexcept {
  fp_stats st;
  read_stats(st);
  MallInfo mi{};
  std::size_t arena = st.segments * kSegmentSize;
  std::size_t pages_with_room = 0;
  for (std::size_t c = 0; c < st.class_count; ++c)
    pages_with_room += st.classes[c].pages - st.classes[c].pages_full;
  std::size_t used_in_arena = st.bytes_allocated - st.huge_bytes;
  mi.arena = arena;
  mi.ordblks = pages_with_room;  // pages with free blocks
  mi.hblks = st.huge_blocks;
  mi.hblkhd = st.huge_bytes;  // live ones: cached mappings count in keepcost
  mi.uordblks = used_in_arena;
  mi.fordblks = arena > used_in_arena ? arena - used_in_arena : 0;
  mi.keepcost = st.bytes_cached;  // what malloc_trim would give back
  return mi;
}

// mallopt: M_TRIM_THRESHOLD keeps that many bytes of empty segments for reuse (the
// segment cache, FASTPOOL_SEGMENT_CACHE); fastpool has no arenas, no mmap threshold to
// move (the huge threshold is fixed at build time) and no fast bins: every other option
// is refused with 0, as glibc refuses one it does not know.
int set_malloc_option(int param, int value) noexcept {
  if (param != M_TRIM_THRESHOLD) return 0;
  std::int64_t segments = value < 0 ? 64 : value / static_cast<std::int64_t>(kSegmentSize);
  set_option(Option::segment_cache, segments > 64 ? 64 : segments);
  return 1;
}

// malloc_info(0, fp): glibc's XML layout with fastpool's figures; one <heap> for the
// whole allocator, <sizes> listing each class's free blocks.
int write_malloc_info(int options, FILE* fp) noexcept {
  if (options != 0) return EINVAL;  // as glibc 2.36 does (errno untouched)
  fp_stats st;
  read_stats(st);
  std::size_t free_count = 0, free_bytes = 0;
  std::fputs("<malloc version=\"1\">\n<heap nr=\"0\">\n<sizes>\n", fp);
  std::size_t from = 1;
  for (std::size_t c = 0; c < st.class_count; ++c) {
    const fp_class_stats& k = st.classes[c];
    std::size_t capacity = k.pages * heap::page_capacity(static_cast<int>(c));
    std::size_t n = capacity > k.blocks_in_use ? capacity - k.blocks_in_use : 0;
    if (n != 0)
      std::fprintf(fp, "  <size from=\"%zu\" to=\"%zu\" total=\"%zu\" count=\"%zu\"/>\n", from,
                   k.block_size, n * k.block_size, n);
    free_count += n;
    free_bytes += n * k.block_size;
    from = k.block_size + 1;
  }
  auto totals = [&](bool with_mmap) {
    std::fprintf(fp, "<total type=\"fast\" count=\"0\" size=\"0\"/>\n");
    std::fprintf(fp, "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n", free_count, free_bytes);
    if (with_mmap)
      std::fprintf(fp, "<total type=\"mmap\" count=\"%zu\" size=\"%zu\"/>\n", st.huge_blocks,
                   st.huge_bytes);
    std::fprintf(fp, "<system type=\"current\" size=\"%zu\"/>\n", st.bytes_mapped);
    std::fprintf(fp, "<system type=\"max\" size=\"%zu\"/>\n", st.peak_resident);
    std::fprintf(fp, "<aspace type=\"total\" size=\"%zu\"/>\n", st.bytes_mapped);
    std::fprintf(fp, "<aspace type=\"mprotect\" size=\"%zu\"/>\n", st.bytes_mapped);
  };
  std::fputs("</sizes>\n", fp);
  totals(false);
  std::fputs("</heap>\n", fp);
  totals(true);
  std::fputs("</malloc>\n", fp);
  return 0;
}

}  // namespace fastpool
