#include "router/heap.hpp"

#include <pthread.h>

#include <new>

#include "os/options.hpp"
#include "os/os.hpp"

namespace fastpool {

constinit Heap g_empty_heap{};
__thread Heap* tls_heap __attribute__((tls_model("initial-exec"))) = &g_empty_heap;

__thread RemoteBatch tls_remote __attribute__((tls_model("initial-exec"))) = {};

namespace {
constexpr DirectTable kEmptyDirect = [] {
  DirectTable t{};
  for (Page*& p : t) p = &g_empty_page;
  return t;
}();
}  // namespace
__thread DirectTable tls_direct __attribute__((tls_model("initial-exec"))) = kEmptyDirect;

namespace {

// Registry of every heap ever made, and the abandoned ones waiting for a thread.
pthread_mutex_t g_heaps_lock = PTHREAD_MUTEX_INITIALIZER;
Heap* g_all_heaps = nullptr;
Heap* g_abandoned = nullptr;
std::size_t g_heap_count = 0;
// Heap records come from mappings of their own (never from the allocator).
char* g_meta_bump = nullptr;
char* g_meta_end = nullptr;

pthread_key_t g_exit_key;

std::atomic<int> g_global_state{0};  // 0 none, 1 in progress, 2 done

constexpr std::uint32_t kMaintainEvery = 64;  // slow calls between clock reads
constexpr std::uint64_t kMaintainPeriodMs = 10;

// Slots of the direct table per class: [first, last], empty range for larger classes.
struct SlotRange {
  std::uint8_t first, last;
};
constexpr auto kSlots = [] {
  std::array<SlotRange, kClassCount> r{};
  for (auto& x : r) x = {1, 0};
  for (std::size_t w = 0; w < kDirectSlots; ++w) {
    SlotRange& x = r[kDirectClass[w]];
    if (x.first > x.last) x.first = static_cast<std::uint8_t>(w);
    x.last = static_cast<std::uint8_t>(w);
  }
  return r;
}();

// Pages of a class span enough slices for at least 8 blocks.
constexpr int slices_for_class(int c) {
  std::size_t bytes = class_size(c) * 8;
  return static_cast<int>((bytes + kSliceSize - 1) / kSliceSize);
}

void on_thread_exit(void* arg) noexcept;
void fork_prepare() noexcept;
void fork_parent() noexcept;
void fork_child() noexcept;

void global_init() noexcept {
  int expected = 0;
  if (!g_global_state.compare_exchange_strong(expected, 1)) return;
  pthread_key_create(&g_exit_key, on_thread_exit);
  pthread_atfork(fork_prepare, fork_parent, fork_child);
  g_global_state.store(2, std::memory_order_release);
}

__attribute__((constructor)) void init_at_load() {
  global_init();
}

Heap* new_heap_locked() noexcept {
  std::size_t need = (sizeof(Heap) + 127) & ~std::size_t{127};
  if (g_meta_bump == nullptr || g_meta_end - g_meta_bump < static_cast<std::ptrdiff_t>(need)) {
    std::size_t chunk = 1 << 20;
    void* m = os::map_aligned(chunk, os::page_size());
    if (m == nullptr) return nullptr;
    g_meta_bump = static_cast<char*>(m);
    g_meta_end = g_meta_bump + chunk;
  }
  auto* h = new (g_meta_bump) Heap();
  g_meta_bump += need;
  for (int c = 0; c < kClassCount; ++c)
    h->classes[c].source() = PageSource{h, static_cast<std::uint8_t>(c)};
  h->next_registered = g_all_heaps;
  g_all_heaps = h;
  ++g_heap_count;
  return h;
}

void link_segment(Segment*& list, Segment* s) noexcept {
  s->prev = nullptr;
  s->next = list;
  if (list != nullptr) list->prev = s;
  list = s;
}

void unlink_segment(Segment*& list, Segment* s) noexcept {
  if (s->prev != nullptr)
    s->prev->next = s->next;
  else
    list = s->next;
  if (s->next != nullptr) s->next->prev = s->prev;
}

// Keeps a segment on the list its free slices call for: none -> full_segments.
void file_segment(Heap* h, Segment* s, bool was_full) noexcept {
  bool full = s->free_slices == 0;
  if (full == was_full) return;
  unlink_segment(was_full ? h->full_segments : h->segments, s);
  link_segment(full ? h->full_segments : h->segments, s);
}

// How many segments the search for resident (dirty) slices looks at before it settles
// for any free ones: enough to find recent frees, bounded so a large heap stays O(1).
constexpr int kDirtySearch = 8;

// A span of `count` slices from the heap's segments, or a new segment. Slices freed but
// not yet purged come first: they are resident already, and touching fresh slices instead
// would grow the RSS while those sit idle. Only segments with a free slice are searched.
Page* take_span(Heap* h, int count, PageKind kind) noexcept {
  Segment* found = nullptr;
  int i = -1;
  int looked = 0;
  for (Segment* s = h->segments; s != nullptr && looked < kDirtySearch; s = s->next, ++looked)
    if ((i = segment::find_free_run(s, count, true)) >= 0) {
      found = s;
      break;
    }
  for (Segment* s = h->segments; found == nullptr && s != nullptr; s = s->next)
    if ((i = segment::find_free_run(s, count)) >= 0) found = s;
  if (found == nullptr) {
    found = segment::acquire(h);
    if (found == nullptr) return nullptr;
    link_segment(h->segments, found);
    i = segment::find_free_run(found, count);
  }
  Page* pg = segment::take_span(found, i, count, kind);
  file_segment(h, found, false);
  return pg;
}

void free_span(Heap* h, Page* pg, std::uint64_t now) noexcept {
  Segment* s = segment_of(pg);
  bool was_full = s->free_slices == 0;
  segment::free_span(s, pg, now);
  file_segment(h, s, was_full);
}

// Called by the exiting owner. Once the heap is on the abandoned list another thread may
// adopt it, so this thread lets go of it first: later frees here go the remote way.
void abandon(Heap* h) noexcept {
  heap::flush_remote();
  heap::collect_remote(h);
  heap::maintain(h, true);
  // Current pages become ordinary counted pages until a thread adopts the heap.
  auto self = reinterpret_cast<std::uintptr_t>(h);
  for (Page*& cur : h->current) {
    if (cur != &g_empty_page && cur->owner.load(std::memory_order_relaxed) == self) {
      cur->pool.recount_used();
      cur->owner.store(self | kOwnerCounted, std::memory_order_relaxed);
    }
    cur = &g_empty_page;
  }
  tls_heap = &g_empty_heap;
  tls_direct = kEmptyDirect;
  pthread_mutex_lock(&g_heaps_lock);
  h->abandoned = true;
  h->next_abandoned = g_abandoned;
  g_abandoned = h;
  pthread_mutex_unlock(&g_heaps_lock);
}

// Tidies one abandoned heap on behalf of nobody: collects the blocks other threads freed
// into it and gives its empty pages and segments back, so an exited thread's memory
// returns even when no new thread comes to adopt the heap.
void tidy_one_abandoned() noexcept {
  if (pthread_mutex_trylock(&g_heaps_lock) != 0) return;
  Heap* h = g_abandoned;
  if (h != nullptr) g_abandoned = h->next_abandoned;
  pthread_mutex_unlock(&g_heaps_lock);
  if (h == nullptr) return;
  heap::collect_remote(h);
  heap::maintain(h, false);
  pthread_mutex_lock(&g_heaps_lock);
  h->next_abandoned = g_abandoned;
  g_abandoned = h;
  pthread_mutex_unlock(&g_heaps_lock);
}

// The key's value is the thread's heap, or g_empty_heap for a thread that only freed
// (set so that its batch of remote frees is flushed here too).
void on_thread_exit(void* arg) noexcept {
  heap::flush_remote();
  tls_remote.exit_hook = false;
  auto* h = static_cast<Heap*>(arg);
  if (h == nullptr || h != tls_heap || h == &g_empty_heap) return;
  abandon(h);
}

void fork_prepare() noexcept {
  pthread_mutex_lock(&g_heaps_lock);
  segment::fork_prepare();
}
void fork_parent() noexcept {
  segment::fork_parent();
  pthread_mutex_unlock(&g_heaps_lock);
}
// The child has one thread. Other threads' heaps may be mid-update, so they are left
// alone (their pages stay theirs; frees into them land on their remote lists).
void fork_child() noexcept {
  segment::fork_child();
  pthread_mutex_init(&g_heaps_lock, nullptr);
}

}  // namespace

Page* PageSource::grow(std::size_t) noexcept {
  int slices = slices_for_class(size_class);
  Page* pg = take_span(heap, slices, PageKind::small);
  if (pg == nullptr) return nullptr;
  Segment* s = segment_of(pg);
  std::size_t bsize = class_size(size_class);
  pg->pool.init(slice_start(s, page_index(s, pg)), bsize,
                static_cast<std::size_t>(slices) * kSliceSize / bsize);
  pg->size_class = size_class;
  pg->block_magic = ((std::uint64_t{1} << 40) + bsize - 1) / bsize;
  pg->owner.store(reinterpret_cast<std::uintptr_t>(heap) | kOwnerCounted,
                  std::memory_order_relaxed);
  return pg;
}

namespace heap {

Heap* init_thread() noexcept {
  global_init();
  pthread_mutex_lock(&g_heaps_lock);
  Heap* h = g_abandoned;
  if (h != nullptr) {
    g_abandoned = h->next_abandoned;
    h->abandoned = false;
  } else {
    h = new_heap_locked();
  }
  pthread_mutex_unlock(&g_heaps_lock);
  if (h == nullptr) return nullptr;
  // Install before pthread_setspecific: should it allocate, it finds this heap ready.
  tls_heap = h;
  for (int c = 0; c < kClassCount; ++c) heap::refresh_direct(h, c);
  if (g_global_state.load(std::memory_order_acquire) == 2) {
    pthread_setspecific(g_exit_key, h);
    tls_remote.exit_hook = true;
  }
  return h;
}

void start_remote_batch(Heap* owner, void* p) noexcept {
  RemoteBatch& r = tls_remote;
  flush_remote();
  if (!r.exit_hook && g_global_state.load(std::memory_order_acquire) == 2) {
    pthread_setspecific(g_exit_key, tls_heap);
    r.exit_hook = true;
  }
  auto* b = static_cast<engine::FreeBlock*>(p);
  b->next = nullptr;
  r.to = owner;
  r.first = r.last = b;
  r.count = 1;
}

void flush_remote() noexcept {
  RemoteBatch& r = tls_remote;
  if (r.to == nullptr) return;
  r.to->remote.push_chain(r.first, r.last);
  r.to = nullptr;
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
  auto self = reinterpret_cast<std::uintptr_t>(h);
  if (old->kind == PageKind::small && old->owner.load(std::memory_order_relaxed) == self) {
    old->pool.recount_used();
    old->owner.store(self | kOwnerCounted, std::memory_order_relaxed);
  }
  if (cur != &g_empty_page) cur->owner.store(self, std::memory_order_relaxed);
  h->current[c] = cur;
  for (int w = kSlots[c].first; w <= kSlots[c].last; ++w) tls_direct[w] = cur;
}

void free_local(Heap* h, Page* pg, void* p) noexcept {
  if (pg->kind == PageKind::large) {
    pg->pool.deallocate(pg->pool.start());
    free_span(h, pg, os::now_ms());
    return;
  }
  FP_ASSERT(pg->kind == PageKind::small);
  PageQueue& q = h->classes[pg->size_class];
  bool was_empty = q.current() == nullptr;
  q.deallocate(pg, p);
  if (was_empty) refresh_direct(h, pg->size_class);
}

void collect_remote(Heap* h) noexcept {
  engine::FreeBlock* b = h->remote.take_all();
  while (b != nullptr) {
    engine::FreeBlock* next = b->next;
    free_local(h, page_of(b), b);
    b = next;
  }
}

void maintain(Heap* h, bool force) noexcept {
  std::uint64_t now = os::now_ms();
  // Pages with no block in use go back to their segment; each class keeps its current
  // page so a malloc/free loop at a page boundary does not thrash.
  for (int c = 0; c < kClassCount; ++c) {
    PageQueue& q = h->classes[c];
    Page* cur = q.current();
    if (force && cur != nullptr) cur->pool.recount_used();
    q.for_each_chunk([&](Page* pg) {
      if (pg->pool.unused() && (pg != cur || force)) {
        q.remove_unused(pg);
        free_span(h, pg, now);
      }
    });
    refresh_direct(h, c);
  }
  // Keep one empty segment for reuse; give the others back.
  bool kept_one = false;
  for (Segment* s = h->segments; s != nullptr;) {
    Segment* next = s->next;
    if (segment::all_free(s) && (kept_one || force)) {
      unlink_segment(h->segments, s);
      segment::release(s);
    } else {
      if (segment::all_free(s)) kept_one = true;
      segment::purge(s, now, force);
    }
    s = next;
  }
  h->next_maintenance_ms = now + kMaintainPeriodMs;
  if (h == tls_heap) tidy_one_abandoned();
}

// Counts slow-path calls and, every so often, lets maintenance run when it is due.
static void tick(Heap* h) noexcept {
  if (FP_LIKELY(++h->slow_calls % kMaintainEvery != 0)) return;
  if (os::now_ms() >= h->next_maintenance_ms) maintain(h, false);
}

void* small_alloc(Heap* h, int c) noexcept {
  flush_remote();
  collect_remote(h);
  tick(h);
  void* b = h->classes[c].allocate();
  refresh_direct(h, c);
  return b;
}

void* large_alloc(Heap* h, std::size_t size, std::size_t alignment) noexcept {
  flush_remote();
  collect_remote(h);
  tick(h);
  std::size_t extra = alignment > kSliceSize ? alignment - kSliceSize : 0;
  int count = static_cast<int>((size + extra + kSliceSize - 1) / kSliceSize);
  if (count >= kSlicesPerSegment) return nullptr;
  Page* pg = take_span(h, count, PageKind::large);
  if (pg == nullptr) return nullptr;
  Segment* s = segment_of(pg);
  char* start = slice_start(s, page_index(s, pg));
  pg->pool.init_all_used(start, static_cast<std::size_t>(count) * kSliceSize, 1);
  pg->owner.store(reinterpret_cast<std::uintptr_t>(h) | kOwnerCounted | kOwnerFull,
                  std::memory_order_relaxed);
  char* b = start;
  if (alignment > kSliceSize) {
    auto a = (reinterpret_cast<std::uintptr_t>(b) + alignment - 1) & ~(alignment - 1);
    pg->large_offset = static_cast<std::uint32_t>(a - reinterpret_cast<std::uintptr_t>(b));
    b = reinterpret_cast<char*>(a);
  } else {
    pg->large_offset = 0;
  }
  return b;
}

bool large_grow_in_place(Heap* h, Page* pg, std::size_t size) noexcept {
  if (pg->kind != PageKind::large || pg->large_offset != 0 || size > kMaxLarge) return false;
  if ((pg->owner.load(std::memory_order_relaxed) & ~kOwnerFlags) !=
      reinterpret_cast<std::uintptr_t>(h))
    return false;
  int count = static_cast<int>((size + kSliceSize - 1) / kSliceSize);
  Segment* s = segment_of(pg);
  if (!segment::grow_span(s, pg, count)) return false;
  file_segment(h, s, false);
  pg->pool.init_all_used(pg->pool.start(), static_cast<std::size_t>(count) * kSliceSize, 1);
  return true;
}

std::size_t heap_count() noexcept {
  return g_heap_count;
}

}  // namespace heap
}  // namespace fastpool
