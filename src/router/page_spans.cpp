// Where a heap's pages and large blocks get their spans: resident free slices first,
// then the slices of idle current pages, fresh memory last. And what trim takes from
// current pages that the owner alone may let go of.
#include "router/heap.hpp"

#include "os/os.hpp"

namespace fastpool::heap {
namespace {

// Classes whose pages hold a few blocks each (8 KiB and up, 8 or so per page).
constexpr int kFirstFewBlockClass = size_class(8 * 1024);
static_assert(class_size(kFirstFewBlockClass) * 8 <= kSliceSize, "8 blocks per 1-slice page");
static_assert(kClassCount - kFirstFewBlockClass <= 64, "one bit each in a word");

constexpr std::uint64_t few_block_bit(int c) {
  return std::uint64_t{1} << (c - kFirstFewBlockClass);
}

// Before the heap takes memory that is not resident for a span of `count` slices: the
// current pages of its few-block classes with no block out go back to its spans.
// Otherwise a freed buffer stays resident in a class nothing may ask from again: a buffer
// that doubles leaves one behind per size, about as much again as it holds. The first
// page big enough for the span stays resident for it; the others are purged as they go
// back (under the span lock: once its lock is let go, a segment may be trimmed away). A
// class that asks for a page again after it lost one keeps its pages from then on
// (Heap::idle_kept). Bounded: at most 49 classes, a walk of a few free blocks each.
// For a page of a class of many blocks (`small_page`) a page goes back only the second time
// it is found idle (Heap::idle_seen): a block just freed there stays a freed block of its
// class, so that a second free of it (another thread's, say) is still caught as a double
// free, not taken for the first block of the new page carved over it. Returns true when a
// page that can serve the span went back resident.
bool release_idle_current(Heap* h, int count, int except, bool small_page) noexcept {
  if (h != tls_heap) return false;  // an abandoned heap has no current pages
  bool kept_one = false;
  for (int c = kFirstFewBlockClass; c < kClassCount; ++c) {
    Page* pg = h->current[c];
    if (pg == &g_empty_page || c == except || (h->idle_kept & few_block_bit(c)) != 0) continue;
    pg->pool.recount_used();
    const std::uint64_t bit = few_block_bit(c);
    if (!pg->pool.unused()) {
      h->idle_seen &= ~bit;
      continue;
    }
    if (small_page && (h->idle_seen & bit) == 0) {
      h->idle_seen |= bit;
      continue;
    }
    h->idle_seen &= ~bit;
    bool keep = !kept_one && pg->slice_count >= count;
    kept_one |= keep;
    make_counted(h, pg);
    h->current[c] = &g_empty_page;
    page_emptied(h, pg, !keep);
    refresh_direct(h, c);
    h->idle_released |= bit;
  }
  return kept_one;
}

}  // namespace

Page* take_span(Heap* h, int count, PageKind kind, bool* zeroed, int size_class) noexcept {
  if (size_class >= kFirstFewBlockClass && (h->idle_released & few_block_bit(size_class)) != 0)
    h->idle_kept |= few_block_bit(size_class);
  if (Page* pg = spans::take(h, count, kind, zeroed, true)) return pg;
  const bool small_page = kind == PageKind::small && size_class < kFirstFewBlockClass;
  if (release_idle_current(h, count, size_class, small_page))
    if (Page* pg = spans::take(h, count, kind, zeroed, true)) return pg;
  return spans::take(h, count, kind, zeroed);
}

// The owner holds big_pop_lock around every pop from these pages, and the span lock
// keeps every span where it is, so a page found current here stays a page of its class
// and a block found free stays free while it is purged. The owner's fast-path frees
// only push, writing a block's first 16 bytes, which stay resident.
std::size_t purge_idle_current(Heap* h) noexcept {
#ifdef FASTPOOL_SECURE
  (void)h;  // freed blocks are filled and checked at reuse: a purged one would read as zero
  return 0;
#else
  if (!h->big_pop_lock.try_lock()) return 0;  // the owner is popping: not idle
  std::size_t purged = 0;
  {
    os::SpinGuard spans(h->spans.lock);
    const std::uintptr_t page = os::page_size();
    for (int c = kBatchedClasses; c < kClassCount; ++c) {
      Page* pg = __atomic_load_n(&h->current[c], __ATOMIC_RELAXED);
      if (pg == &g_empty_page || pg->kind != PageKind::small || pg->size_class != c ||
          !is_current_word(pg->owner.load(std::memory_order_relaxed)))
        continue;
      const auto& pool = pg->pool;
      std::size_t bs = pool.block_size();
      const char* lo = pool.start();
      pool.free_list().for_each_observed(
          lo, lo + pool.touched_bytes(), pool.capacity(), [&](void* b) {
            auto at = reinterpret_cast<std::uintptr_t>(b);
            std::uintptr_t from = (at + sizeof(engine::TaggedBlock) + page - 1) & ~(page - 1);
            std::uintptr_t to = (at + bs) & ~(page - 1);
            if (to <= from) return;
            os::purge(reinterpret_cast<void*>(from), to - from);
            segment::counters.count_release(to - from);
            purged += to - from;
          });
    }
  }
  h->big_pop_lock.unlock();
  return purged;
#endif
}

}  // namespace fastpool::heap
