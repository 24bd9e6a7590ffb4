#include "segment/page_map.hpp"

#include <pthread.h>

#include "segment/meta.hpp"

namespace fastpool {

constinit Page g_empty_page{};
constinit std::uintptr_t g_page_map_top[kTopEntries] = {};

namespace page_map {
namespace {

// Serialises leaf creation; entries themselves are written without it.
pthread_mutex_t g_leaf_lock = PTHREAD_MUTEX_INITIALIZER;
std::size_t g_leaf_bytes = 0;  // guarded by g_leaf_lock

constexpr std::uintptr_t kLeafBias = kLeafEntries * sizeof(Page*);

Page** leaf_of(std::size_t top) noexcept {
  std::uintptr_t biased = __atomic_load_n(&g_page_map_top[top], __ATOMIC_ACQUIRE);
  return biased == 0 ? nullptr : reinterpret_cast<Page**>(biased + top * kLeafBias);
}

Page** make_leaf(std::size_t top) noexcept {
  pthread_mutex_lock(&g_leaf_lock);
  Page** leaf = leaf_of(top);
  while (leaf == nullptr) {
    auto* fresh = static_cast<Page**>(meta::allocate(kLeafBias, 4096));
    if (fresh == nullptr) break;
    for (std::size_t i = 0; i < kLeafEntries; ++i) fresh[i] = &g_empty_page;
    g_leaf_bytes += kLeafBias;
    std::uintptr_t biased = reinterpret_cast<std::uintptr_t>(fresh) - top * kLeafBias;
    if (biased == 0) continue;  // would read as "no leaf": take another (never seen)
    __atomic_store_n(&g_page_map_top[top], biased, __ATOMIC_RELEASE);
    leaf = fresh;
  }
  pthread_mutex_unlock(&g_leaf_lock);
  return leaf;
}

template <class F>
bool for_each_slice(const void* base, std::size_t size, bool make, F&& f) noexcept {
  auto first = reinterpret_cast<std::uintptr_t>(base) >> kSliceShift;
  auto last = (reinterpret_cast<std::uintptr_t>(base) + size - 1) >> kSliceShift;
  for (auto s = first; s <= last;) {
    std::size_t top = s >> kLeafBits;
    if (top >= kTopEntries) return false;
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

Page* find(const void* p) noexcept {
  auto slice = reinterpret_cast<std::uintptr_t>(p) >> kSliceShift;
  if ((slice >> kLeafBits) >= kTopEntries) return &g_empty_page;
  return page_of(p);
}

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

void fork_prepare() noexcept {
  pthread_mutex_lock(&g_leaf_lock);
}
void fork_parent() noexcept {
  pthread_mutex_unlock(&g_leaf_lock);
}
void fork_child() noexcept {
  pthread_mutex_init(&g_leaf_lock, nullptr);
}

}  // namespace page_map
}  // namespace fastpool
