// Slow paths of the shared allocation API, and the fp_* C API.
#include "api/front.hpp"

#include <errno.h>

#include <cstring>

#include "api/stats.hpp"
#include "fastpool/fastpool.h"
#include "os/options.hpp"
#include "os/os.hpp"
#include "segment/huge.hpp"
#include "segment/meta.hpp"

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
// Every pop of a class past the malloc tables (32 KiB and up) is here, so these blocks
// are checked against a write after free as they are handed out again (the free list's
// tag and link in their first 16 bytes); smaller ones come here only once their page is
// used up.
FP_FAST_PATH void* pop_class(Heap* h, int c) noexcept {
  if (void* b = h->current[c]->pool.pop_verified_uncounted(); FP_LIKELY(b != nullptr)) return b;
  return heap::small_alloc(h, c);
}
// Classes past the malloc tables pop under big_pop_lock, so that trim may purge what
// their current pages hold free while the thread is idle (heap::purge_idle_current).
FP_FAST_PATH void* alloc_class(Heap* h, int c) noexcept {
  if (c < kBatchedClasses) return pop_class(h, c);
  os::SpinGuard g(h->big_pop_lock);
  return pop_class(h, c);
}

// Where every size goes: a class, a large span, or a mapping of its own. `alignment`
// (a power of two, or 0) is at most a slice here unless the request is huge. *zeroed is
// set when the block is known to read as zero. `span`: a large span even where a class
// would do (a block that grows in place). Null when the OS refuses memory.
void* alloc_where(std::size_t size, std::size_t alignment, bool* zeroed, bool span) noexcept {
  if (size > kMaxLarge || alignment > kSliceSize) return huge::allocate(size, alignment, zeroed);
  Heap* h = thread_heap();
  if (FP_UNLIKELY(h == nullptr)) return nullptr;
  void* p;
  if (size <= kMaxClassSize && !span) {
    int c = size_class(size);
    // Blocks are aligned to the largest power of two dividing their class size (pages
    // start slice-aligned): a larger class serves a stricter alignment.
    if (alignment > 16)
      while (kClassSize[c] & (alignment - 1)) ++c;
    p = alloc_class(h, c);
  } else {
    p = heap::large_alloc(h, size, zeroed);
  }
  // A thread past its exit hook keeps no heap: the next thread adopts this one.
  if (FP_UNLIKELY(tls_remote.exited)) heap::release_after_exit();
  return p;
}

// Under a commit or data limit, memory the heaps hold free (mapped, so charged) is what
// a new mapping lacks: every heap trimmed, true if that gave any back. One thread at a
// time: threads failing together at their limit would otherwise queue up to trim what
// the first one gave back already.
FP_COLD bool trimmed_for_retry() noexcept {
  static std::atomic<bool> busy{false};
  if (busy.exchange(true, std::memory_order_acquire)) return false;
  bool any = heap::trim_all();
  busy.store(false, std::memory_order_release);
  return any;
}

// alloc_where, once more after a trim when the OS refused. *zeroed (optional) as there.
void* alloc_any(std::size_t size, std::size_t alignment, bool* zeroed, bool span = false) noexcept {
  bool z = false;
  void* p = alloc_where(size, alignment, &z, span);
  if (FP_UNLIKELY(p == nullptr) && trimmed_for_retry()) p = alloc_where(size, alignment, &z, span);
  if (zeroed != nullptr) *zeroed = z;
  return FP_LIKELY(p != nullptr) ? p : out_of_memory();
}

// Both read only the record's second cache line, never the owner's hot one.
// REQUIRES: pg is the page map's record for p, so p lies in pg's span (which is what
// keeps the offset below 2^32 and past the page's start).
FP_FAST_PATH bool is_small_block_start(Page* pg, const void* p) noexcept {
  auto off = static_cast<std::uint64_t>(static_cast<const char*>(p) - pg->block_base);
  return is_block_offset(pg, off);
}

bool is_block_start(Page* pg, const void* p) noexcept {
  switch (pg->kind) {
    case PageKind::large:
      return p == page_start(pg);
    case PageKind::huge:
      return p == huge_block(pg);
    default:
      return is_small_block_start(pg, p);
  }
}

Heap* owner_of(Page* pg) noexcept {
  return pg->heap;
}

}  // namespace

void* malloc_slow(std::size_t size) noexcept {
  return alloc_any(size, 0, nullptr);
}

void* malloc_growable(std::size_t size) noexcept {
  return alloc_any(size, 0, nullptr, true);
}

// The page of a pointer about to be freed (or resized), after the checks that cost no
// more than a few loads: fastpool memory, a page in use, the start of a block. Aborts
// otherwise, with a message that names `fn`.
Page* validated_page_of(void* p, bool resizing) noexcept {
  Page* pg = page_map::find(p);
  if (FP_UNLIKELY(pg == &g_empty_page))
    bad_free(resizing ? "realloc(): pointer was not allocated by fastpool"
                      : "free(): pointer was not allocated by fastpool",
             p);
  if (FP_UNLIKELY(pg->kind == PageKind::unused))
    bad_free(resizing ? "realloc(): pointer to freed memory"
                      : "free(): double free or pointer to freed memory",
             p);
  if (FP_UNLIKELY(!is_block_start(pg, p)))
    bad_free(resizing ? "realloc(): pointer is not the start of a block"
                      : "free(): pointer is not the start of a block",
             p);
  if (FP_UNLIKELY(pg->kind == PageKind::small && pg->pool.free_list().is_tagged(p)))
    bad_free(resizing ? "realloc(): pointer to freed memory" : "free(): double free", p);
  return pg;
}

void bad_current_free(void* p) noexcept {
  validated_page_of(p, false);  // names what is wrong, and aborts
  bad_free("free(): pointer is not a live block", p);
}

void free_slow(void* p) noexcept {
  if (p == nullptr) return;
  Page* pg = validated_page_of(p, false);
  if (pg->kind == PageKind::huge) return huge::free(pg);
  if (pg->kind == PageKind::large) return heap::free_large(pg);
  Heap* owner = owner_of(pg);
  Heap* h = tls_heap;
  if (owner == h) return heap::free_local(h, pg, p);
  PageFreeList::set_tag(p, pg->pool.free_list().tag());  // free from now on
  if (pg->size_class < kBatchedClasses)
    heap::free_remote(owner, p);
  else
    heap::send_remote(owner, p);  // a big block is not held back in a batch
}

// Not a page under my thread word. Every block is checked first: a block start (free_fast
// has found the page, so the pointer is fastpool's) and not free already (its tag). Then:
// a page of my heap under its word is claimed and takes a counted push (its span goes
// back when that was its last block); a small block of another heap goes into this
// thread's remote batch, tagged. Anything else, including every misuse: free_slow.
void free_other_page(void* p, Page* pg, std::uintptr_t owner) noexcept {
  auto self = reinterpret_cast<std::uintptr_t>(tls_heap);
  Heap* heap = pg->heap;  // null for the sentinel and huge blocks
  if (FP_LIKELY(pg->kind == PageKind::small && is_small_block_start(pg, p))) {
    const PageFreeList& list = pg->pool.free_list();
    if (FP_UNLIKELY(list.is_tagged(p))) bad_free("free(): double free", p);
    // My heap's page under the heap's word (an adopted heap's, not freed into since): from
    // now on under mine, for the fast path. (Pages under my word never come here.)
    if (FP_LIKELY(owner == (self | kOwnerCounted))) {
      pg->owner.store(counted_word(tls_heap), std::memory_order_relaxed);
      pg->pool.deallocate(p);
      --pg->accounted;  // heap::account, unrolled: one block fewer
      bump(tls_heap->stats.classes[pg->size_class].used, -1);
      if (FP_UNLIKELY(pg->pool.unused())) heap::page_emptied(tls_heap, pg);
      return;
    }
    if (FP_LIKELY(heap != tls_heap && pg->size_class < kBatchedClasses)) {
      PageFreeList::set_tag(p, list.tag());  // free from now on: see is_tagged
      return heap::free_remote(heap, p);
    }
  }
  free_slow(p);
}

void free_emptied([[maybe_unused]] void* p, Page* pg, std::uintptr_t held) noexcept {
  FP_ASSERT(page_of(p) == pg);
  if (held == 0)
    pg->pool.mark_uncounted();
  else
    heap::page_emptied(tls_heap, pg);
}

// Debug builds: every free is checked in full before it touches the heap, the free tag
// confirmed by a walk of the page's free list (only the owner may read it).
void check_free(void* p) noexcept {
  if (p == nullptr) return;
  Page* pg = validated_page_of(p, false);
  if (pg->kind == PageKind::small && owner_of(pg) == tls_heap && pg->pool.is_free(p))
    bad_free("free(): double free", p);
}

void* aligned_alloc_checked(std::size_t alignment, std::size_t size) noexcept {
  if (alignment <= 16) return malloc_fast(size);
  // Classes and large spans serve every alignment up to a slice; beyond, huge blocks.
  return alloc_any(size, alignment, nullptr);
}

void* calloc_impl(std::size_t n, std::size_t size) noexcept {
  std::size_t total;
  if (__builtin_mul_overflow(n, size, &total)) return out_of_memory();
  if (total <= kMaxSmall) {
    void* p = malloc_fast(total);
    if (p != nullptr) std::memset(p, 0, total);
    return p;
  }
  // Fresh mappings, never-used and purged slices read as zero: do not touch them.
  bool zeroed = false;
  void* p = alloc_any(total, 0, &zeroed);
  if (p != nullptr && !zeroed) std::memset(p, 0, total);
  return p;
}

BlockSpan block_span(const void* p) noexcept {
  Page* pg = page_map::find(p);  // the sentinel for NULL and what fastpool did not hand out
  auto* c = const_cast<char*>(static_cast<const char*>(p));
  switch (pg->kind) {
    case PageKind::huge:
      return {huge_block(pg), huge_block(pg) + huge_usable(pg)};
    case PageKind::large:
      return {page_start(pg), page_start(pg) + pg->slice_count * kSliceSize};
    case PageKind::small: {
      std::size_t bs = pg->pool.block_size();
      char* b = c - static_cast<std::size_t>(c - pg->pool.start()) % bs;
      return {b, b + bs};
    }
    default:
      return {nullptr, nullptr};
  }
}

std::size_t usable_size(const void* p) noexcept {
  BlockSpan s = block_span(p);
  return s.start == nullptr ? 0 : static_cast<std::size_t>(s.end - static_cast<const char*>(p));
}

bool collect_all() noexcept {
#ifdef FASTPOOL_SECURE
  secure::flush_thread();
#endif
  return heap::trim_all();
}

}  // namespace fastpool

namespace fastpool {
namespace {

// FASTPOOL_VERBOSE=1: the options in force, on stderr, as the library loads. These two
// hooks sit with the allocation API, which every program using fastpool links (from the
// static library too), and not with the option table, which the launcher links.
__attribute__((constructor)) void print_options_if_verbose() {
  if (option(Option::verbose) == 0) return;
  for (int i = 0; i < kOptionCount; ++i) {
    auto o = static_cast<Option>(i);
    os::Message m;
    m << "fastpool: " << option_info(o).env << "=" << static_cast<std::uint64_t>(option(o)) << "\n";
    m.emit();
  }
}

// FASTPOOL_SHOW_STATS=1: the report at exit.
__attribute__((destructor)) void report_at_exit() {
  if (option(Option::show_stats) != 0) print_stats();
}

}  // namespace
}  // namespace fastpool

using namespace fastpool;

extern "C" {

FP_EXPORT void* fp_malloc(size_t size) noexcept {
  return front_malloc(size);
}
FP_EXPORT void fp_free(void* p) noexcept {
  front_free(p);
}
FP_EXPORT void* fp_calloc(size_t n, size_t size) noexcept {
  return front_calloc(n, size);
}
FP_EXPORT void* fp_realloc(void* p, size_t size) noexcept {
  return front_realloc(p, size);
}
FP_EXPORT void* fp_aligned_alloc(size_t alignment, size_t size) noexcept {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    errno = EINVAL;
    return nullptr;
  }
  return front_aligned(alignment, size);
}
FP_EXPORT size_t fp_usable_size(const void* p) noexcept {
  return front_usable_size(p);
}
FP_EXPORT void* fp_block_of(const void* p) noexcept {
  return front_block_of(p);
}
FP_EXPORT int fp_owns(const void* p) noexcept {
  return p != nullptr && page_map::owns(p);
}
FP_EXPORT void fp_collect(void) noexcept {
  collect_all();
}

}  // extern "C"
