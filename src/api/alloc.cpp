// Slow paths of the shared allocation API, and the fp_* C API.
#include "api/alloc.hpp"

#include <errno.h>

#include <cstring>

#include "fastpool/fastpool.h"
#include "os/options.hpp"
#include "os/os.hpp"

namespace fastpool {
namespace {

[[noreturn]] FP_COLD void bad_free(const char* what, const void* p) noexcept {
  engine::fatal(what, p);
}

FP_COLD void* out_of_memory() noexcept {
  errno = ENOMEM;
  return nullptr;
}

Heap* thread_heap() noexcept {
  Heap* h = tls_heap;
  if (FP_UNLIKELY(h == &g_empty_heap)) h = heap::init_thread();
  return h;
}

// The class's current page, else the class queue.
FP_FAST_PATH void* alloc_class(Heap* h, int c) noexcept {
  if (void* b = h->current[c]->pool.pop_uncounted(); FP_LIKELY(b != nullptr)) return b;
  return heap::small_alloc(h, c);
}

void* huge_alloc(std::size_t size, std::size_t alignment) noexcept {
  bool zeroed;
  return segment::huge_alloc(size, alignment, &zeroed);
}

char* huge_block_start(Segment* s) noexcept {
  return reinterpret_cast<char*>(s) + s->mapped_size - s->huge_usable;
}

// Both read only the record's second cache line, never the owner's hot one.
FP_FAST_PATH bool is_small_block_start(Page* pg, const void* p) noexcept {
  auto off = static_cast<std::uint64_t>(static_cast<const char*>(p) - page_start(pg));
  std::uint64_t index = (off * pg->block_magic) >> 40;
  return off < pg->slice_count * kSliceSize && index * kClassSize[pg->size_class] == off;
}

bool is_block_start(Page* pg, const void* p) noexcept {
  switch (pg->kind) {
    case PageKind::large:
      return static_cast<const char*>(p) == page_start(pg) + pg->large_offset;
    case PageKind::huge:
      return p == huge_block_start(segment_of(p));
    default:
      return is_small_block_start(pg, p);
  }
}

}  // namespace

void* malloc_slow(std::size_t size) noexcept {
  Heap* h = thread_heap();
  if (FP_UNLIKELY(h == nullptr)) return out_of_memory();
  void* p;
  if (size <= kMaxSmall)
    p = alloc_class(h, size_class(size));
  else if (size <= kMaxLarge)
    p = heap::large_alloc(h, size, 0);
  else
    p = huge_alloc(size, 0);
  return FP_LIKELY(p != nullptr) ? p : out_of_memory();
}

// The page of a pointer about to be freed, after the checks that cost no more than a
// few loads: fastpool memory, a page in use, the start of a block. Aborts otherwise.
Page* validated_page_of(void* p) noexcept {
  if (FP_UNLIKELY(!segment::owns(p))) bad_free("free(): pointer was not allocated by fastpool", p);
  Page* pg = page_of(p);
  if (FP_UNLIKELY(pg->kind == PageKind::unused))
    bad_free("free(): double free or pointer to freed memory", p);
  if (FP_UNLIKELY(!is_block_start(pg, p)))
    bad_free("free(): pointer is not the start of a block", p);
  return pg;
}

void free_slow(void* p) noexcept {
  if (p == nullptr) return;
  Page* pg = validated_page_of(p);
  if (pg->kind == PageKind::huge) return segment::huge_free(segment_of(p));
  auto owner = reinterpret_cast<Heap*>(pg->owner.load(std::memory_order_acquire) & ~kOwnerFlags);
  Heap* h = tls_heap;
  if (owner == h)
    heap::free_local(h, pg, p);
  else
    heap::free_remote(owner, p);
}

// Not my current page. Another page of mine that is not full: a counted push. A small
// block of another heap: into this thread's remote batch, after the block-start check
// (free_fast has already found the page, so the pointer is fastpool's). Anything else,
// including every misuse: free_slow.
void free_other_page(void* p, Page* pg, std::uintptr_t owner) noexcept {
  auto self = reinterpret_cast<std::uintptr_t>(tls_heap);
  if (FP_LIKELY(owner == (self | kOwnerCounted))) return pg->pool.deallocate(p);
  auto heap = owner & ~kOwnerFlags;
  if (FP_LIKELY(heap != 0 && heap != self && pg->kind == PageKind::small &&
                is_small_block_start(pg, p)))
    return heap::free_remote(reinterpret_cast<Heap*>(heap), p);
  free_slow(p);
}

// Debug and secure builds: every free is checked before it touches the heap.
void check_free(void* p) noexcept {
  if (p == nullptr) return;
  Page* pg = validated_page_of(p);
  // Only the owner may read its free list; other threads' double frees are caught when
  // the owner collects them (FixedBlockPool asserts in debug builds). The full walk of
  // the free list is for debug builds; secure builds check its head.
  auto owner = reinterpret_cast<Heap*>(pg->owner.load(std::memory_order_relaxed) & ~kOwnerFlags);
  if (pg->kind == PageKind::small && owner == tls_heap) {
#ifdef NDEBUG
    bool freed = pg->pool.is_free_head(p);
#else
    bool freed = pg->pool.is_free(p);
#endif
    if (freed) bad_free("free(): double free", p);
  }
}

void* aligned_alloc_checked(std::size_t alignment, std::size_t size) noexcept {
  std::size_t n = size > alignment ? size : alignment;
  if (alignment <= 16) return malloc_fast(n);
  if (n <= kMaxSmall) {
    int c = size_class(n);
    while (kClassSize[c] % alignment != 0) ++c;  // a power-of-two class always ends it
    Heap* h = thread_heap();
    void* p = h != nullptr ? alloc_class(h, c) : nullptr;
    return p != nullptr ? p : out_of_memory();
  }
  if (alignment > kMaxAlignment) return out_of_memory();
  std::size_t extra = alignment > kSliceSize ? alignment - kSliceSize : 0;
  void* p = nullptr;
  if (size <= kMaxLarge && size + extra < kSegmentSize - kSliceSize) {
    Heap* h = thread_heap();
    if (h != nullptr) p = heap::large_alloc(h, size, alignment);
  } else {
    p = huge_alloc(size, alignment);
  }
  return p != nullptr ? p : out_of_memory();
}

void* calloc_impl(std::size_t n, std::size_t size) noexcept {
  std::size_t total;
  if (__builtin_mul_overflow(n, size, &total)) return out_of_memory();
  if (total > kMaxLarge) {  // fresh or purged mappings read as zero: do not touch them
    void* p = huge_alloc(total, 0);
    return p != nullptr ? p : out_of_memory();
  }
  void* p = malloc_fast(total);
  if (p != nullptr) std::memset(p, 0, total);
  return p;
}

std::size_t usable_size(const void* p) noexcept {
  if (p == nullptr) return 0;
  Page* pg = page_of(p);
  auto* c = static_cast<const char*>(p);
  if (pg->kind == PageKind::huge) {
    Segment* s = segment_of(p);
    return static_cast<std::size_t>(reinterpret_cast<char*>(s) + s->mapped_size - c);
  }
  if (pg->kind == PageKind::large) return static_cast<std::size_t>(pg->pool.end() - c);
  std::size_t bs = pg->pool.block_size();
  return bs - static_cast<std::size_t>(c - pg->pool.start()) % bs;
}

void* realloc_impl(void* p, std::size_t size) noexcept {
  if (p == nullptr) return malloc_fast(size);
  if (size == 0) {
    free_fast(p);
    return nullptr;
  }
  std::size_t old = usable_size(p);
  // In place when it fits, unless a large or huge block would waste more than half.
  if (size <= old && (old <= kMaxSmall || size >= old / 2)) return p;
  if (size > old && old > kMaxSmall && heap::large_grow_in_place(tls_heap, page_of(p), size))
    return p;
  void* q = malloc_fast(size);
  if (q == nullptr) return nullptr;  // errno set; p untouched
  std::memcpy(q, p, size < old ? size : old);
  free_fast(p);
  return q;
}

void collect_all() noexcept {
  heap::flush_remote();
  Heap* h = tls_heap;
  if (h != &g_empty_heap) {
    heap::collect_remote(h);
    heap::maintain(h, true);
  }
  segment::trim_cache();
}

}  // namespace fastpool

namespace fastpool {
namespace {

// FASTPOOL_VERBOSE=1: one line of process-wide figures on stderr at exit.
__attribute__((destructor)) void report_at_exit() {
  if (option(Option::verbose) == 0) return;
  os::Message m;
  m << "fastpool: segments " << segment::counters.segments.load() << ", mapped "
    << segment::counters.bytes_mapped.load() / 1024 << " KiB, huge blocks "
    << segment::counters.huge.load() << ", heaps " << heap::heap_count() << "\n";
  m.emit();
}

}  // namespace
}  // namespace fastpool

using namespace fastpool;

extern "C" {

FP_EXPORT void* fp_malloc(size_t size) noexcept {
  return malloc_fast(size);
}
FP_EXPORT void fp_free(void* p) noexcept {
  free_fast(p);
}
FP_EXPORT void* fp_calloc(size_t n, size_t size) noexcept {
  return calloc_impl(n, size);
}
FP_EXPORT void* fp_realloc(void* p, size_t size) noexcept {
  return realloc_impl(p, size);
}
FP_EXPORT void* fp_aligned_alloc(size_t alignment, size_t size) noexcept {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    errno = EINVAL;
    return nullptr;
  }
  return aligned_alloc_fast(alignment, size);
}
FP_EXPORT size_t fp_usable_size(const void* p) noexcept {
  return usable_size(p);
}
FP_EXPORT int fp_owns(const void* p) noexcept {
  return p != nullptr && segment::owns(p);
}
FP_EXPORT void fp_collect(void) noexcept {
  collect_all();
}
FP_EXPORT void fp_get_stats(fp_stats* out) noexcept {
  out->segments_mapped = segment::counters.segments.load(std::memory_order_relaxed);
  out->bytes_mapped = segment::counters.bytes_mapped.load(std::memory_order_relaxed);
  out->huge_allocations = segment::counters.huge.load(std::memory_order_relaxed);
  out->heaps = heap::heap_count();
}

}  // extern "C"
