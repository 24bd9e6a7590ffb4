// Heap lifecycle: the registry of heaps, thread start and exit (adoption, abandonment),
// tidying abandoned heaps, process-wide trim, fork.
#include <pthread.h>

#include <new>

#include "api/front.hpp"  // secure::flush_thread at thread exit
#include "os/os.hpp"
#include "router/heap.hpp"
#include "segment/huge.hpp"
#include "segment/meta.hpp"
#include "segment/page_map.hpp"

namespace fastpool {

constinit Heap g_empty_heap{};
__thread Heap* tls_heap __attribute__((tls_model("initial-exec"))) = &g_empty_heap;

// The initial image is the library's TLS template; a table of its own would be 8 KiB more
// of relocated data in every process (clear_direct refills instead).
__thread DirectTable tls_direct __attribute__((tls_model("initial-exec"))) = [] {
  DirectTable t{};
  for (Page*& p : t) p = &g_empty_page;
  return t;
}();

namespace {

// The registry: every heap ever made (a list that only grows at its head, so it can be
// walked without the lock), and the abandoned ones in FIFO order, so that tidying goes
// round all of them and adoption takes the longest-abandoned first.
pthread_mutex_t g_heaps_lock = PTHREAD_MUTEX_INITIALIZER;
Heap* g_all_heaps = nullptr;
using HeapList = engine::ChunkList<Heap, &Heap::next_abandoned, &Heap::prev_abandoned>;
HeapList g_abandoned;  // guarded by g_heaps_lock
// Abandoned heaps a tidy or trim holds privately (guarded by g_heaps_lock): a new thread
// waits for one to come back (g_heaps_back) rather than make a heap of its own, or every
// thread started while trims run would add one for good.
std::size_t g_held_privately = 0;
pthread_cond_t g_heaps_back = PTHREAD_COND_INITIALIZER;
std::size_t g_heap_count = 0;
std::atomic<std::uint64_t> g_trims{0};

pthread_key_t g_exit_key;
std::atomic<int> g_global_state{0};  // 0 none, 1 in progress, 2 done

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
  void* m = meta::allocate(sizeof(Heap), alignof(Heap));
  if (m == nullptr) return nullptr;
  auto* h = new (m) Heap();
  for (int c = 0; c < kClassCount; ++c)
    h->classes[c].source() = PageSource{h, static_cast<std::uint8_t>(c)};
  h->next_registered = g_all_heaps;
  __atomic_store_n(&g_all_heaps, h, __ATOMIC_RELEASE);
  ++g_heap_count;
  return h;
}

// Called by the owner. Once the heap is on the abandoned list another thread may adopt
// it, so this thread lets go of it first: later frees here go the remote way. Nothing
// is purged: the next thread to adopt the heap will want its pages warm, and what stays
// unused is purged by the tidying after the usual delay.
void abandon(Heap* h) noexcept {
  heap::flush_remote();
  heap::collect_remote(h);
  heap::drop_current_pages(h, true);  // and clears the direct table: h is tls_heap
  h->kept_since_ms = os::now_ms();
  tls_heap = &g_empty_heap;
  heap::release_counted_words(h);
  pthread_mutex_lock(&g_heaps_lock);
  g_abandoned.push_back(h);
  pthread_mutex_unlock(&g_heaps_lock);
}

// The key's value is the thread's heap, or g_empty_heap for a thread that only freed
// (set so that its batch of remote frees is flushed here too).
void on_thread_exit(void* arg) noexcept {
#ifdef FASTPOOL_SECURE
  secure::flush_thread();
#endif
  heap::flush_remote();
  tls_remote.exit_hook = false;
  tls_remote.exited = true;
  auto* h = static_cast<Heap*>(arg);
  if (h == nullptr || h != tls_heap || h == &g_empty_heap) return;
  abandon(h);
}

// The segment layer's mutexes, in the order they nest (huge and segment caches may map
// leaves and metadata, never the other way round).
template <class F>
void for_each_layer_lock(F f) noexcept {
  for (pthread_mutex_t* m :
       {&huge::fork_lock(), &segment::fork_lock(), &page_map::fork_lock(), &meta::fork_lock()})
    f(m);
}

// Every span lock is held across fork, so that the child finds every heap's spans
// consistent (their owners, gone in the child, may have been mid-update), and every
// big-pop lock, which a trimming thread that is gone in the child may hold.
void fork_prepare() noexcept {
  pthread_mutex_lock(&g_heaps_lock);
  heap::for_each_heap(
      [](Heap* h, void*) {
        h->big_pop_lock.lock();
        h->spans.lock.lock();
      },
      nullptr);
  for_each_layer_lock(pthread_mutex_lock);
}
void fork_parent() noexcept {
  for_each_layer_lock(pthread_mutex_unlock);
  heap::for_each_heap(
      [](Heap* h, void*) {
        h->spans.lock.unlock();
        h->big_pop_lock.unlock();
      },
      nullptr);
  pthread_mutex_unlock(&g_heaps_lock);
}
// The child has one thread. Other threads' heaps stay theirs (frees into them land on
// their remote lists); their locks are released, and their pages lose the owner word of
// a thread that does not exist here (a new thread may get its thread pointer).
void fork_child() noexcept {
  for_each_layer_lock([](pthread_mutex_t* m) { return pthread_mutex_init(m, nullptr); });
  heap::for_each_heap(
      [](Heap* h, void*) {
        h->spans.lock.reset();
        h->big_pop_lock.reset();
        if (h == tls_heap) return;
        // Counted (h is not tls_heap: the heap's word) and accounted: the free lists
        // are whole, every push and pop being one store the fork saw or did not.
        for (Page* cur : h->current)
          if (is_current_word(cur->owner.load(std::memory_order_relaxed)))
            heap::make_counted(h, cur);
        heap::release_counted_words(h);  // and its other pages
      },
      nullptr);
  pthread_mutex_init(&g_heaps_lock, nullptr);
  // Heaps a tidy or trim of another thread held are lost to the child, as that thread is.
  pthread_cond_init(&g_heaps_back, nullptr);
  g_held_privately = 0;
}

// Up to `max` abandoned heaps, from the front, into `held`: held privately from now on.
// REQUIRES: g_heaps_lock held.
void take_abandoned(HeapList& held, std::size_t max) noexcept {
  std::size_t before = held.size();
  for (Heap* h; held.size() < max && (h = g_abandoned.pop_front()) != nullptr;) held.push_back(h);
  g_held_privately += held.size() - before;
}

// Abandoned heaps held privately back on the list, for threads waiting to adopt one.
void give_back(HeapList& held) noexcept {
  pthread_mutex_lock(&g_heaps_lock);
  g_held_privately -= held.size();
  while (Heap* h = held.pop_front()) g_abandoned.push_back(h);
  pthread_cond_broadcast(&g_heaps_back);
  pthread_mutex_unlock(&g_heaps_lock);
}

}  // namespace

namespace heap {

void arm_exit_hook() noexcept {
  if (g_global_state.load(std::memory_order_acquire) != 2) return;
  pthread_setspecific(g_exit_key, tls_heap);
  tls_remote.exit_hook = true;
}

Heap* init_thread() noexcept {
  global_init();
  pthread_mutex_lock(&g_heaps_lock);
  Heap* h = g_abandoned.pop_front();
  while (h == nullptr && g_held_privately > 0) {
    pthread_cond_wait(&g_heaps_back, &g_heaps_lock);
    h = g_abandoned.pop_front();
  }
  if (h == nullptr) h = new_heap_locked();
  pthread_mutex_unlock(&g_heaps_lock);
  if (h == nullptr) return nullptr;
  // Install before pthread_setspecific: should it allocate, it finds this heap ready.
  tls_heap = h;
  // No current page is installed: each class's first malloc takes its queue's front (an
  // adopted heap's kept page, warm) on the slow path, so classes the thread never uses
  // leave their kept pages to release_kept_pages.
  if (!tls_remote.exited) arm_exit_hook();
  return h;
}

void release_after_exit() noexcept {
  Heap* h = tls_heap;
  if (h != &g_empty_heap) abandon(h);
}

void tidy_abandoned(int budget) noexcept {
  HeapList taken;  // held privately meanwhile: a new thread waits for them
  if (pthread_mutex_trylock(&g_heaps_lock) != 0) return;
  take_abandoned(taken, static_cast<std::size_t>(budget > 0 ? budget : 0));
  pthread_mutex_unlock(&g_heaps_lock);
  if (taken.empty()) return;
  std::uint64_t now = os::now_ms();
  taken.for_each([now](Heap* h) {
    collect_remote(h);
    heap::release_kept_pages(h, now, false);
    spans::purge_due(h, now, 8);
  });
  give_back(taken);
}

bool trim_all() noexcept {
  g_trims.fetch_add(1, std::memory_order_relaxed);
  std::size_t released_before = segment::counters.released.load(std::memory_order_relaxed);
  Heap* self = tls_heap;
  flush_remote();
  if (self != &g_empty_heap) {
    collect_remote(self);
    maintain(self, true);
  }
  // Abandoned heaps, a few at a time held privately (a new thread waits for one at most
  // that long): what others freed into them comes home. Once round the list.
  pthread_mutex_lock(&g_heaps_lock);
  std::size_t left = g_abandoned.size();
  pthread_mutex_unlock(&g_heaps_lock);
  std::uint64_t now = os::now_ms();
  while (left > 0) {
    HeapList batch;
    pthread_mutex_lock(&g_heaps_lock);
    take_abandoned(batch, left < 8 ? left : 8);
    left -= batch.size();
    pthread_mutex_unlock(&g_heaps_lock);
    if (batch.empty()) break;
    batch.for_each([now](Heap* h) {
      collect_remote(h);
      heap::release_kept_pages(h, now, true);
    });
    give_back(batch);
  }
  // Every heap's free spans go back now, under its span lock, whoever owns it; live
  // owners are asked to collect their remote frees and drop empty pages on their next
  // slow call.
  heap::for_each_heap(
      [](Heap* h, void*) {
        spans::purge_all(h);
        purge_idle_current(h);
        if (h != tls_heap) h->trim_requested.store(true, std::memory_order_relaxed);
      },
      nullptr);
  huge::expire_cache(os::now_ms(), true);
  segment::trim_cache();
  return segment::counters.released.load(std::memory_order_relaxed) != released_before;
}

std::size_t heap_count() noexcept {
  return __atomic_load_n(&g_heap_count, __ATOMIC_RELAXED);
}
std::size_t abandoned_count() noexcept {
  pthread_mutex_lock(&g_heaps_lock);
  std::size_t n = g_abandoned.size();
  pthread_mutex_unlock(&g_heaps_lock);
  return n;
}
std::uint64_t trim_count() noexcept {
  return g_trims.load(std::memory_order_relaxed);
}
void for_each_heap(void (*f)(Heap*, void*), void* arg) noexcept {
  for (Heap* h = __atomic_load_n(&g_all_heaps, __ATOMIC_ACQUIRE); h != nullptr;
       h = h->next_registered)
    f(h, arg);
}

}  // namespace heap
}  // namespace fastpool
