#include "segment/page_map.hpp"

#include <pthread.h>

#include <cstddef>

#include "os/os.hpp"
#include "os/word_pages.hpp"
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

// Serialises leaf creation and leaf pages going private; entries are written without it.
pthread_mutex_t g_leaf_lock = PTHREAD_MUTEX_INITIALIZER;
std::size_t g_leaf_bytes = 0;  // private leaf pages, in bytes; guarded by g_leaf_lock

// Leaf memory. A new leaf is eight read-only views of one shared page of sentinel
// pointers (os/word_pages.hpp): it costs no memory, and a free of a foreign pointer
// reads the sentinel there as anywhere. A leaf page goes private (a copy of its own,
// swapped in for readers in one step) before the first entry in it is written, so a
// process using a few segments writes one page of its leaf, not all eight.
// g_private[top], bit k: page k of top's leaf is private (written with release under
// g_leaf_lock, read by writers of entries; an entry is only written in a private page).
// Each view and each private page is a mapping of its own (they cannot merge), so only
// the first kViewLeaves leaves are made of views (at most 8 mappings each): what a small
// process saves, while a process spread over many leaves keeps a bounded mapping count
// (vm.max_map_count) and gets the rest written out, one mapping among fastpool's
// metadata.
constexpr int kViewLeaves = 8;
int g_view_leaves = 0;  // guarded by g_leaf_lock
constexpr std::size_t kLeafPage = 4096;
constexpr std::size_t kLeafPages = kLeafBytes / kLeafPage;
constexpr std::size_t kEntriesPerLeafPage = kLeafPage / sizeof(Page*);
static_assert(kLeafPages == 8, "g_private holds one bit per leaf page");
std::uint8_t g_private[kTopEntries];

std::uintptr_t sentinel_word() noexcept {
  return reinterpret_cast<std::uintptr_t>(&g_empty_page);
}

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

// A leaf of views (the first kViewLeaves); else, or where the kernel will not make them
// (or pages are not 4 KiB), a private leaf written out, all its pages marked private.
// REQUIRES: g_leaf_lock held.
Page** new_leaf(std::size_t top) noexcept {
  if (g_view_leaves < kViewLeaves && os::page_size() == kLeafPage) {
    auto* leaf = static_cast<char*>(os::reserve_inaccessible(kLeafBytes));
    bool ok = leaf != nullptr;
    for (std::size_t k = 0; ok && k < kLeafPages; ++k)
      ok = os::map_word_view(leaf + k * kLeafPage, sentinel_word());
    if (ok) {
      ++g_view_leaves;
      return reinterpret_cast<Page**>(leaf);
    }
    if (leaf != nullptr) os::unmap(leaf, kLeafBytes);
  }
  auto** leaf = static_cast<Page**>(meta::allocate(kLeafBytes, kLeafPage));
  if (leaf == nullptr) return nullptr;
  for (std::size_t i = 0; i < kLeafEntries; ++i) leaf[i] = &g_empty_page;
  g_leaf_bytes += kLeafBytes;
  g_private[top] = 0xff;
  return leaf;
}

Page** make_leaf(std::size_t top) noexcept {
  pthread_mutex_lock(&g_leaf_lock);
  Page** leaf = leaf_of(top);
  if (leaf == nullptr) {
    leaf = new_leaf(top);
    if (leaf != nullptr)
      __atomic_store_n(&g_page_map.top[top], encode(leaf, top), __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&g_leaf_lock);
  return leaf;
}

bool is_private(std::size_t top, std::size_t page) noexcept {
  return (__atomic_load_n(&g_private[top], __ATOMIC_ACQUIRE) >> page) & 1;
}

// Makes page `page` of top's leaf private, so that entries can be written in it.
bool make_private(Page** leaf, std::size_t top, std::size_t page) noexcept {
  if (is_private(top, page)) return true;
  pthread_mutex_lock(&g_leaf_lock);
  bool ok = is_private(top, page) ||
            os::make_word_page_private(leaf + page * kEntriesPerLeafPage, sentinel_word());
  if (ok && !is_private(top, page)) {
    g_leaf_bytes += kLeafPage;
    __atomic_store_n(&g_private[top], static_cast<std::uint8_t>(g_private[top] | 1u << page),
                     __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&g_leaf_lock);
  return ok;
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
// but the written ones. The first is written here: free(NULL) reads it. And the
// sentinel leaf, dirtied whole by its relocations (32 KiB), becomes views like any leaf.
__attribute__((constructor)) void trim_library_data() {
  touch_for_write(0);
  pthread_mutex_lock(&g_leaf_lock);
  if (os::page_size() == kLeafPage)
    for (std::size_t k = 0; k < kLeafPages; ++k)
      os::map_word_view(&g_page_map.sentinel_leaf[k * kEntriesPerLeafPage], sentinel_word());
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
    while (s <= last && s < leaf_end) {
      std::size_t i = s & (kLeafEntries - 1), page = i / kEntriesPerLeafPage;
      std::uintptr_t page_end = s - i % kEntriesPerLeafPage + kEntriesPerLeafPage;
      // A page still a view holds the sentinel throughout: nothing to clear there.
      if (make ? !make_private(leaf, top, page) : !is_private(top, page)) {
        if (make) return false;
        s = page_end;
        continue;
      }
      for (; s <= last && s < page_end; ++s) f(&leaf[s & (kLeafEntries - 1)]);
    }
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
