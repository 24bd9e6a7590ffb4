// Pages and blocks of a heap: class queues, large blocks, housekeeping.
#include "router/heap.hpp"

#include "os/options.hpp"
#include "os/os.hpp"
#include "segment/huge.hpp"
#include "segment/largest_freed.hpp"

namespace fastpool {
namespace {

// Slots of the direct table per class: [first, last], empty range for larger classes.
struct SlotRange {
  std::uint16_t first, last;
};
constexpr auto kSlots = [] {
  std::array<SlotRange, kClassCount> r{};
  for (auto& x : r) x = {1, 0};
  for (std::size_t w = 0; w < kDirectSlots; ++w) {
    SlotRange& x = r[kDirectClass[w]];
    if (x.first > x.last) x.first = static_cast<std::uint16_t>(w);
    x.last = static_cast<std::uint16_t>(w);
  }
  return r;
}();

// Slices of a class's page. Up to 128 KiB blocks: enough for 8 blocks (as few slices as
// that takes). Bigger blocks: the fewest slices whose tail past the last block is at most
// an eighth of the page (16 at most, so a page spans at most 1 MiB, far below the 2^32
// bytes block_magic allows). Few blocks per page, because a thread gone idle pins the
// free blocks of its current pages: one 256 KiB block, not four. The tail costs address
// space only; it is never touched.
constexpr int slices_for_class(int c) {
  std::size_t bytes = class_size(c);
  if (bytes * 8 <= 16 * kSliceSize)
    return static_cast<int>((bytes * 8 + kSliceSize - 1) / kSliceSize);
  std::size_t n = (bytes + kSliceSize - 1) / kSliceSize;
  while (n < 16 && (n * kSliceSize) % bytes * 8 > n * kSliceSize) ++n;
  return static_cast<int>(n);
}
constexpr auto kClassSlices = [] {
  std::array<std::uint8_t, kClassCount> t{};
  for (int c = 0; c < kClassCount; ++c) t[c] = static_cast<std::uint8_t>(slices_for_class(c));
  return t;
}();
static_assert(kClassSlices[kClassCount - 1] * kSliceSize < (std::size_t{1} << 32));

constexpr std::uint32_t kMaintainEvery = 64;  // slow calls between clock reads
constexpr std::uint64_t kMaintainPeriodMs = 10;
constexpr int kPurgeBudget = 8;  // segments purged per maintenance: bounds its cost
constexpr int kTidyBudget = 4;   // abandoned heaps tidied per maintenance

int slices_for(std::size_t size) noexcept {
  return static_cast<int>((size + kSliceSize - 1) / kSliceSize);
}

}  // namespace

Page* PageSource::grow(std::size_t) noexcept {
  int slices = kClassSlices[size_class];
  bool zeroed;
  Page* pg = heap::take_span(heap, slices, PageKind::small, &zeroed, size_class);
  if (pg == nullptr) return nullptr;
  std::size_t bsize = class_size(size_class);
  pg->pool.init(page_start(pg), bsize, static_cast<std::size_t>(slices) * kSliceSize / bsize);
  pg->block_base = page_start(pg);
  pg->size_class = size_class;
  pg->heap = heap;
  pg->block_magic = 1 + ~std::uint64_t{0} / bsize;
  std::uint64_t e = pg->block_magic * bsize;  // mod 2^64
  pg->block_limit = e != 0 ? pg->pool.capacity() * e : pg->block_magic;
  pg->owner.store(counted_word(heap), std::memory_order_relaxed);
  pg->accounted = 0;
  bump(heap->stats.classes[size_class].pages, 1);
  return pg;
}

void PageSource::on_full(Page* p) noexcept {
  p->pool.mark_all_used();
  p->owner.store(reinterpret_cast<std::uintptr_t>(heap) | kOwnerCounted | kOwnerFull,
                 std::memory_order_relaxed);
  heap::account(heap, p);
  bump(heap->stats.classes[size_class].pages_full, 1);
}

void PageSource::on_available(Page* p) noexcept {
  p->owner.store(counted_word(heap), std::memory_order_relaxed);
  bump(heap->stats.classes[size_class].pages_full, -1);
}

LargeCounts g_large;
static LargestFreed g_large_freed;  // its rule: segment/largest_freed.hpp

namespace heap {

std::size_t page_capacity(int c) noexcept {
  return static_cast<std::size_t>(kClassSlices[c]) * kSliceSize / class_size(c);
}

void account(Heap* h, Page* pg) noexcept {
  auto used = static_cast<std::uint32_t>(pg->pool.used());
  bump(h->stats.classes[pg->size_class].used,
       static_cast<std::int64_t>(used) - static_cast<std::int64_t>(pg->accounted));
  pg->accounted = used;
}

void account_current(Heap* h) noexcept {
  for (Page* pg : h->current) {
    if (pg == &g_empty_page) continue;
    pg->pool.recount_used();  // the owner's own page: its free list is safe to walk
    account(h, pg);
    pg->pool.mark_uncounted();
  }
  auto counted = counted_word(h);
  for (PageQueue& q : h->classes)
    q.for_each_available([&](Page* pg) {
      if (pg->owner.load(std::memory_order_relaxed) == counted) account(h, pg);
    });
}

void release_counted_words(Heap* h) noexcept {
  FP_ASSERT(h != tls_heap);
  auto released = reinterpret_cast<std::uintptr_t>(h) | kOwnerCounted;
  for (PageQueue& q : h->classes)
    q.for_each_available([&](Page* pg) {
      auto owner = pg->owner.load(std::memory_order_relaxed);
      if ((owner & kOwnerFlags) != kOwnerCounted || owner == released) return;
      account(h, pg);
      pg->owner.store(released, std::memory_order_relaxed);
    });
}

void make_counted(Heap* h, Page* pg) noexcept {
  pg->pool.recount_used();
  pg->owner.store(counted_word(h), std::memory_order_relaxed);
  account(h, pg);
}

// Installs the class queue's front page as the class's current page: in h->current
// and in the thread's direct table. The page that stops being current gets an exact
// count and the counted flag again; the new one loses its flags, so that the fast paths
// may skip the count. Runs after anything that may change a queue's front.
void refresh_direct(Heap* h, int c) noexcept {
  if (h != tls_heap) return;  // an abandoned heap being tidied has no current pages
  Page* cur = h->classes[c].current();
  if (cur == nullptr) cur = &g_empty_page;
  Page* old = h->current[c];
  if (old == cur) return;
  if (old->kind == PageKind::small && is_current_word(old->owner.load(std::memory_order_relaxed)))
    make_counted(h, old);
  if (cur != &g_empty_page) {
    account(h, cur);
    cur->pool.mark_uncounted();
    cur->owner.store(thread_owner_word(), std::memory_order_relaxed);
  }
  h->current[c] = cur;
  for (int w = kSlots[c].first; w <= kSlots[c].last; ++w) tls_direct[w] = cur;
}

void clear_direct() noexcept {
  for (Page*& p : tls_direct) p = &g_empty_page;
}

void page_emptied(Heap* h, Page* pg, bool purge_now) noexcept {
  FP_ASSERT(pg->pool.unused());
  account(h, pg);
  bump(h->stats.classes[pg->size_class].pages, -1);
  h->classes[pg->size_class].remove_unused(pg);
  spans::free(h, pg, purge_now);
}

void drop_current_pages(Heap* h, bool keep_empty) noexcept {
  for (int c = 0; c < kClassCount; ++c) {
    Page* cur = h->current[c];
    h->current[c] = &g_empty_page;
    if (cur == &g_empty_page || !is_current_word(cur->owner.load(std::memory_order_relaxed)))
      continue;
    make_counted(h, cur);
    if (cur->pool.unused() && !keep_empty) page_emptied(h, cur);
  }
  if (h == tls_heap) clear_direct();
}

void release_kept_pages(Heap* h, std::uint64_t now, bool now_too) noexcept {
  auto delay = static_cast<std::uint64_t>(option(Option::purge_delay_ms));
  if (h->kept_since_ms == 0 || (!now_too && now < h->kept_since_ms + delay)) return;
  h->kept_since_ms = 0;
  for (int c = 0; c < kClassCount; ++c) {
    Page* pg = h->classes[c].current();
    if (pg != nullptr &&
        (pg->owner.load(std::memory_order_relaxed) & kOwnerFlags) == kOwnerCounted &&
        pg->pool.unused())
      page_emptied(h, pg, true);
  }
}

void free_local(Heap* h, Page* pg, void* p) noexcept {
  FP_ASSERT(pg->kind == PageKind::small);
  int c = pg->size_class;
  PageQueue& q = h->classes[c];
  bool was_empty = q.current() == nullptr;
  q.deallocate(pg, p);
  account(h, pg);
  // A counted page (not current) with no block out goes back at once, to be retaken by
  // any class: pg is not read after.
  if ((pg->owner.load(std::memory_order_relaxed) & kOwnerCounted) != 0 && pg->pool.unused())
    page_emptied(h, pg);
  if (was_empty) refresh_direct(h, c);
}

void maintain(Heap* h, bool force) noexcept {
  std::uint64_t now = os::now_ms();
  bool more;
  release_kept_pages(h, now, force);
  if (force) {
    if (h == tls_heap) {
      drop_current_pages(h);
      for (int c = 0; c < kClassCount; ++c) refresh_direct(h, c);
    }
    more = false;
    spans::purge_all(h);
  } else {
    more = spans::purge_due(h, now, kPurgeBudget);
  }
  huge::expire_cache(now, force);
  h->next_maintenance_ms = more ? now : now + kMaintainPeriodMs;
  if (h == tls_heap) tidy_abandoned(kTidyBudget);
}

// Counts slow-path calls and, every so often, lets maintenance run when it is due.
static void tick(Heap* h) noexcept {
  if (FP_UNLIKELY(h->trim_requested.load(std::memory_order_relaxed))) {
    h->trim_requested.store(false, std::memory_order_relaxed);
    collect_remote(h);
    return maintain(h, true);
  }
  if (FP_LIKELY(++h->slow_calls % kMaintainEvery != 0)) return;
  if (os::now_ms() >= h->next_maintenance_ms) maintain(h, false);
}

void* small_alloc(Heap* h, int c) noexcept {
  flush_remote();
  collect_remote(h);
  tick(h);
  void* b = h->classes[c].allocate();
  if (b != nullptr) account(h, page_of(b));
  refresh_direct(h, c);
  return b;
}

void* large_alloc(Heap* h, std::size_t size, bool* zeroed) noexcept {
  flush_remote();
  collect_remote(h);
  tick(h);
  int count = slices_for(size);
  FP_ASSERT(count <= kMaxSpan);
  Page* pg = take_span(h, count, PageKind::large, zeroed, -1);
  if (pg == nullptr) return nullptr;
  char* start = page_start(pg);
  pg->pool.init_all_used(start, static_cast<std::size_t>(count) * kSliceSize, 1);
  pg->heap = h;
  pg->owner.store(reinterpret_cast<std::uintptr_t>(h) | kOwnerCounted | kOwnerFull,
                  std::memory_order_relaxed);
  g_large.blocks.fetch_add(1, std::memory_order_relaxed);
  g_large.bytes.fetch_add(static_cast<std::size_t>(count) * kSliceSize, std::memory_order_relaxed);
  return start;
}

void free_large(Page* pg) noexcept {
  std::size_t bytes = pg->slice_count * kSliceSize;
  g_large.blocks.fetch_sub(1, std::memory_order_relaxed);
  g_large.bytes.fetch_sub(bytes, std::memory_order_relaxed);
  spans::free(pg->heap, pg, g_large_freed.outgrown_by(bytes));
}

bool large_resize(Page* pg, std::size_t size) noexcept {
  if (size > kMaxSpan * kSliceSize) return false;
  int count = slices_for(size), have = pg->slice_count;
  if (count < have)
    spans::shrink(pg->heap, pg, count);
  else if (count > have && !spans::grow(pg->heap, pg, count))
    return false;
  pg->pool.init_all_used(pg->pool.start(), static_cast<std::size_t>(count) * kSliceSize, 1);
  g_large.bytes.fetch_add(static_cast<std::size_t>(count - have) * kSliceSize,
                          std::memory_order_relaxed);  // wraps on a shrink: a subtraction
  return true;
}

}  // namespace heap
}  // namespace fastpool
