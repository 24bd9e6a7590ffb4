#include "segment/page_map.hpp"

#include <pthread.h>

#include <cstddef>

#include "os/os.hpp"
#include "segment/meta.hpp"

namespace fastpool {

constinit Page g_empty_page{};

namespace {
// Every top word leads to the sentinel leaf (see the encoding in page_map.hpp).
constexpr PageMap initial_page_map() {
  PageMap m{};
  constexpr std::uintptr_t to_leaf = offsetof(PageMap, sentinel_leaf);
  for (std::size_t chunk = 0; chunk < kTopEntries; chunk += 4096)  // constexpr loop limit
    for (std::size_t i = chunk; i < chunk + 4096; ++i) m.top[i] = to_leaf - i * kLeafBytes;
  for (Page*& e : m.sentinel_leaf) e = &g_empty_page;
  return m;
}
}  // namespace
constinit PageMap g_page_map = initial_page_map();

namespace page_map {
namespace {

// Serialises leaf creation; entries themselves are written without it.
pthread_mutex_t g_leaf_lock = PTHREAD_MUTEX_INITIALIZER;
std::size_t g_leaf_bytes = 0;  // guarded by g_leaf_lock

std::uintptr_t encode(Page** leaf, std::size_t top) noexcept {
  return reinterpret_cast<std::uintptr_t>(leaf) - reinterpret_cast<std::uintptr_t>(g_page_map.top) -
         top * kLeafBytes;
}

// The leaf of top index `top`, or null while it is the shared sentinel leaf.
Page** leaf_of(std::size_t top) noexcept {
  std::uintptr_t word = __atomic_load_n(&g_page_map.top[top], __ATOMIC_ACQUIRE);
  if (word == encode(g_page_map.sentinel_leaf, top)) return nullptr;
  return reinterpret_cast<Page**>(reinterpret_cast<std::uintptr_t>(g_page_map.top) + word +
                                  top * kLeafBytes);
}

Page** make_leaf(std::size_t top) noexcept {
  pthread_mutex_lock(&g_leaf_lock);
  Page** leaf = leaf_of(top);
  if (leaf == nullptr) {
    leaf = static_cast<Page**>(meta::allocate(kLeafBytes, 4096));
    if (leaf != nullptr) {
      for (std::size_t i = 0; i < kLeafEntries; ++i) leaf[i] = &g_empty_page;
      g_leaf_bytes += kLeafBytes;
      __atomic_store_n(&g_page_map.top[top], encode(leaf, top), __ATOMIC_RELEASE);
    }
  }
  pthread_mutex_unlock(&g_leaf_lock);
  return leaf;
}

// The table is file-backed: a first read of one of its pages maps the page-cache folio
// around it as well (fault-around; up to ~170 KiB on Linux 6, counted in the RSS), a
// first write copies that page alone. So before a leaf goes into a table page, that page
// is first touched by a write (once: a locked write on every span change would bounce
// the line every free reads). Under the leaf lock, so that drop_clean_table_pages never
// drops a page while it is written.
constexpr std::size_t kWordsPerPage = 4096 / sizeof(std::uintptr_t);
bool g_written[kTopEntries / kWordsPerPage];  // one per table page (the table is aligned)

void touch_for_write(std::size_t top) noexcept {
  bool& written = g_written[top / kWordsPerPage];
  if (__atomic_load_n(&written, __ATOMIC_RELAXED)) return;
  pthread_mutex_lock(&g_leaf_lock);
  __atomic_fetch_or(&g_page_map.top[top], 0, __ATOMIC_RELAXED);
  __atomic_store_n(&written, true, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&g_leaf_lock);
}

// The dynamic linker's first access to the library's data maps the folio around it too:
// ~170 KiB of table pages nothing reads, in every process's RSS. They are dropped as
// the library starts (clean file pages: a later read maps them from the file again),
// but the written ones. The first is written here: free(NULL) reads it.
__attribute__((constructor)) void drop_clean_table_pages() {
  touch_for_write(0);
  pthread_mutex_lock(&g_leaf_lock);
  constexpr std::size_t kPages = kTopEntries / kWordsPerPage;
  for (std::size_t i = 0; i < kPages;) {
    if (__atomic_load_n(&g_written[i], __ATOMIC_RELAXED)) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < kPages && !__atomic_load_n(&g_written[j], __ATOMIC_RELAXED)) ++j;
    os::purge(&g_page_map.top[i * kWordsPerPage], (j - i) * 4096);
    i = j;
  }
  pthread_mutex_unlock(&g_leaf_lock);
}

template <class F>
bool for_each_slice(const void* base, std::size_t size, bool make, F&& f) noexcept {
  auto first = reinterpret_cast<std::uintptr_t>(base) >> kSliceShift;
  auto last = (reinterpret_cast<std::uintptr_t>(base) + size - 1) >> kSliceShift;
  for (auto s = first; s <= last;) {
    std::size_t top = s >> kLeafBits;
    if (top >= kTopEntries) return false;
    if (make) touch_for_write(top);
    Page** leaf = leaf_of(top);
    if (leaf == nullptr && make) leaf = make_leaf(top);
    std::uintptr_t leaf_end = (top + 1) << kLeafBits;
    if (leaf == nullptr) {
      if (make) return false;
      s = leaf_end;
      continue;
    }
    for (; s <= last && s < leaf_end; ++s) f(&leaf[s & (kLeafEntries - 1)]);
  }
  return true;
}

}  // namespace

bool set(const void* base, std::size_t size, Page* pg) noexcept {
  return for_each_slice(base, size, true,
                        [pg](Page** e) { __atomic_store_n(e, pg, __ATOMIC_RELEASE); });
}

void clear(const void* base, std::size_t size) noexcept {
  for_each_slice(base, size, false,
                 [](Page** e) { __atomic_store_n(e, &g_empty_page, __ATOMIC_RELEASE); });
}

std::size_t leaf_bytes() noexcept {
  return __atomic_load_n(&g_leaf_bytes, __ATOMIC_RELAXED);
}

pthread_mutex_t& fork_lock() noexcept {
  return g_leaf_lock;
}

}  // namespace page_map
}  // namespace fastpool
