#include "router/spans.hpp"

#include <atomic>

#include "os/options.hpp"
#include "os/os.hpp"
#include "router/heap.hpp"

namespace fastpool::spans {
namespace {

constexpr int kDirtySearch = 4;  // purge-queue segments searched for resident slices
// Dirty slices the process keeps whatever its size: 4 MiB, so that a small program's
// free/allocate cycles stay resident for the whole delay.
constexpr std::size_t kDirtyFloor = 64;
constexpr int kBoundBudget = 4;  // segments one free may purge for the bound

// --- process-wide totals of the heaps' segments, so the dirty bound holds for the
// process however many heaps there are (256 threads of 4 MiB each would be 1 GiB).
// Each heap adds and takes its own under its span lock: take s out before changing its
// bitmaps, add it back after.
struct Totals {
  std::atomic<std::size_t> slices{0};  // kMaxSpan per segment
  std::atomic<std::size_t> free{0};
  std::atomic<std::size_t> dirty{0};
};
Totals g_totals;

// Bits set, without the libgcc call __builtin_popcountll becomes on baseline x86-64 (the
// library depends on libc alone).
std::size_t bits(std::uint64_t x) noexcept {
  x -= (x >> 1) & 0x5555555555555555;
  x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0f;
  return static_cast<std::size_t>((x * 0x0101010101010101) >> 56);
}

void tally_out(HeapSpans& sp, const Segment* s) noexcept {
  std::size_t f = bits(s->free_slices), d = bits(s->dirty_slices);
  sp.free_slices -= f;
  sp.dirty_slices -= d;
  g_totals.free.fetch_sub(f, std::memory_order_relaxed);
  g_totals.dirty.fetch_sub(d, std::memory_order_relaxed);
}
void tally_in(HeapSpans& sp, const Segment* s) noexcept {
  std::size_t f = bits(s->free_slices), d = bits(s->dirty_slices);
  sp.free_slices += f;
  sp.dirty_slices += d;
  g_totals.free.fetch_add(f, std::memory_order_relaxed);
  g_totals.dirty.fetch_add(d, std::memory_order_relaxed);
}

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
  tally_out(sp, s);
  if (segment::all_free(s)) {
    unbin(sp, s);
    --sp.segments;
    g_totals.slices.fetch_sub(kMaxSpan, std::memory_order_relaxed);
    segment::release(s);
    return true;
  }
  bool any = s->dirty_slices != 0;
  segment::purge(s);
  tally_in(sp, s);
  return any;
}

// Phases that free one kind of span and then take another (a program's build phase,
// then its query phase) would otherwise keep both resident for the whole delay; dirty
// memory is held to an eighth of what is in use, as jemalloc's old dirty ratio did. The
// caller's heap gives back its own oldest, only while it holds more than its own eighth
// (an idle heap's excess is its own maintenance's or trim's to purge: without this rule
// a busy heap would purge every span it frees, forever), and a few segments per call.
void bound_dirty(HeapSpans& sp) noexcept {
  std::size_t slices = g_totals.slices.load(std::memory_order_relaxed);
  std::size_t free = g_totals.free.load(std::memory_order_relaxed);
  std::size_t used = slices > free ? slices - free : 0;
  std::size_t limit = used / 8 > kDirtyFloor ? used / 8 : kDirtyFloor;
  std::size_t own_limit = (sp.segments * kMaxSpan - sp.free_slices) / 8;
  for (int budget = kBoundBudget; budget > 0 && !sp.purge_queue.empty(); --budget) {
    if (g_totals.dirty.load(std::memory_order_relaxed) <= limit) return;
    if (sp.dirty_slices <= own_limit) return;
    purge_or_release(sp, sp.purge_queue.front());
  }
}

}  // namespace

Page* take(Heap* h, int count, PageKind kind, bool* zeroed) noexcept {
  FP_ASSERT(count >= 1 && count <= kMaxSpan);
  HeapSpans& sp = h->spans;
  os::SpinGuard g(sp.lock);
  int i = -1;
  Segment* s = find_resident(sp, count, &i);
  if (s == nullptr) s = find_best_fit(sp, count, &i);
  if (s == nullptr) {
    s = segment::acquire(h);
    if (s == nullptr) return nullptr;
    ++sp.segments;
    g_totals.slices.fetch_add(kMaxSpan, std::memory_order_relaxed);
    tally_in(sp, s);
    bin(sp, s, kMaxSpan);
    i = 1;
  }
  FP_ASSERT(i >= 1);
  tally_out(sp, s);
  Page* pg = segment::take_span(s, i, count, kind, zeroed);
  tally_in(sp, s);
  refile(sp, s);
  return pg;
}

void free(Heap* h, Page* pg) noexcept {
  HeapSpans& sp = h->spans;
  Segment* s = segment_of(pg);
  os::SpinGuard g(sp.lock);
  bool was_clean = s->dirty_slices == 0;
  tally_out(sp, s);
  segment::free_span(s, pg);
  tally_in(sp, s);
  refile(sp, s);
  dirtied(sp, s, was_clean);
  bound_dirty(sp);
}

bool grow(Heap* h, Page* pg, int count) noexcept {
  HeapSpans& sp = h->spans;
  Segment* s = segment_of(pg);
  os::SpinGuard g(sp.lock);
  tally_out(sp, s);
  bool grown = segment::grow_span(s, pg, count);
  tally_in(sp, s);
  if (grown) refile(sp, s);
  return grown;
}

void shrink(Heap* h, Page* pg, int count) noexcept {
  HeapSpans& sp = h->spans;
  Segment* s = segment_of(pg);
  os::SpinGuard g(sp.lock);
  bool was_clean = s->dirty_slices == 0;
  tally_out(sp, s);
  segment::shrink_span(s, pg, count);
  tally_in(sp, s);
  refile(sp, s);
  dirtied(sp, s, was_clean);
  bound_dirty(sp);
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
