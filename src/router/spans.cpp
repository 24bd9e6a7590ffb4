#include "router/spans.hpp"

#include "os/options.hpp"
#include "os/os.hpp"
#include "router/heap.hpp"

namespace fastpool::spans {
namespace {

constexpr int kDirtySearch = 4;  // purge-queue segments searched for resident slices

// --- the index (lock held)

void unbin(HeapSpans& sp, Segment* s) noexcept {
  sp.bins[s->bin].remove(s);
  if (sp.bins[s->bin].empty()) sp.nonempty &= ~(std::uint64_t{1} << s->bin);
}

void bin(HeapSpans& sp, Segment* s, int k) noexcept {
  s->bin = static_cast<std::uint8_t>(k);
  sp.bins[k].push_front(s);
  sp.nonempty |= std::uint64_t{1} << k;
}

// After s's free slices changed: file it under its new longest run.
void refile(HeapSpans& sp, Segment* s) noexcept {
  int k = segment::longest_free_run(s);
  if (k == s->bin) return;
  unbin(sp, s);
  bin(sp, s, k);
}

// Resident (dirty) slices first, so RSS does not grow while freed memory sits idle: the
// segments freed into last are at the back of the purge queue, and a few of them are
// looked at (the search stays O(1)).
Segment* find_resident(HeapSpans& sp, int count, int* first) noexcept {
  using Queue = decltype(sp.purge_queue);
  Segment* s = sp.purge_queue.back();
  for (int looked = 0; s != nullptr && looked < kDirtySearch; s = Queue::prev(s), ++looked)
    if ((*first = segment::find_free_run(s, count, true)) >= 0) return s;
  return nullptr;
}

// The best fit: a segment of the smallest bin whose longest run holds the span.
Segment* find_best_fit(HeapSpans& sp, int count, int* first) noexcept {
  std::uint64_t fits = sp.nonempty & ~((std::uint64_t{1} << count) - 1);
  if (fits == 0) return nullptr;
  Segment* s = sp.bins[__builtin_ctzll(fits)].front();
  *first = segment::find_free_run(s, count);
  return s;
}

// --- the purge queue (lock held)

void dequeue(HeapSpans& sp, Segment* s) noexcept {
  sp.purge_queue.remove(s);
  s->queued = false;
}

// Slices of s just became dirty. The first ones start the delay and put s at the back
// of the queue; later ones ride along with them.
void dirtied(HeapSpans& sp, Segment* s, bool was_clean) noexcept {
  if (!was_clean && s->queued) return;
  if (s->queued) dequeue(sp, s);
  s->purge_at_ms = os::now_ms() + static_cast<std::uint64_t>(option(Option::purge_delay_ms));
  sp.purge_queue.push_back(s);
  s->queued = true;
}

// Purges s, or gives it back when none of it is in use. Returns true if memory went back.
bool purge_or_release(HeapSpans& sp, Segment* s) noexcept {
  if (s->queued) dequeue(sp, s);
  if (segment::all_free(s)) {
    unbin(sp, s);
    --sp.segments;
    segment::release(s);
    return true;
  }
  bool any = s->dirty_slices != 0;
  segment::purge(s);
  return any;
}

}  // namespace

Page* take(Heap* h, int count, PageKind kind, bool* zeroed, bool resident_only) noexcept {
  FP_ASSERT(count >= 1 && count <= kMaxSpan);
  HeapSpans& sp = h->spans;
  os::SpinGuard g(sp.lock);
  int i = -1;
  Segment* s = find_resident(sp, count, &i);
  if (s == nullptr && resident_only) return nullptr;
  if (s == nullptr) s = find_best_fit(sp, count, &i);
  if (s == nullptr) {
    s = segment::acquire(h, count, kind);
    if (s == nullptr) return nullptr;
    ++sp.segments;
    bin(sp, s, kMaxSpan);
    i = 1;
  }
  FP_ASSERT(i >= 1);
  Page* pg = segment::take_span(s, i, count, kind, zeroed);
  refile(sp, s);
  return pg;
}

void free(Heap* h, Page* pg, bool purge_now) noexcept {
  HeapSpans& sp = h->spans;
  Segment* s = segment_of(pg);
  std::uint64_t slices = segment::run_mask(page_index(s, pg), pg->slice_count);
  os::SpinGuard g(sp.lock);
  bool was_clean = s->dirty_slices == 0;
  segment::free_span(s, pg);
  if (purge_now) segment::purge_slices(s, slices);
  refile(sp, s);
  dirtied(sp, s, was_clean);
}

bool grow(Heap* h, Page* pg, int count) noexcept {
  HeapSpans& sp = h->spans;
  Segment* s = segment_of(pg);
  os::SpinGuard g(sp.lock);
  if (!segment::grow_span(s, pg, count)) return false;
  refile(sp, s);
  return true;
}

void shrink(Heap* h, Page* pg, int count) noexcept {
  HeapSpans& sp = h->spans;
  Segment* s = segment_of(pg);
  os::SpinGuard g(sp.lock);
  bool was_clean = s->dirty_slices == 0;
  segment::shrink_span(s, pg, count);
  refile(sp, s);
  dirtied(sp, s, was_clean);
}

bool purge_due(Heap* h, std::uint64_t now_ms, int budget) noexcept {
  HeapSpans& sp = h->spans;
  os::SpinGuard g(sp.lock);
  for (Segment* s; (s = sp.purge_queue.front()) != nullptr && s->purge_at_ms <= now_ms;) {
    if (budget-- == 0) return true;
    purge_or_release(sp, s);
  }
  return false;
}

bool purge_all(Heap* h) noexcept {
  HeapSpans& sp = h->spans;
  os::SpinGuard g(sp.lock);
  bool any = false;
  while (Segment* s = sp.purge_queue.front()) any |= purge_or_release(sp, s);
  return any;
}

}  // namespace fastpool::spans
