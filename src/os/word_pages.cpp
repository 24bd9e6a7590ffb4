#include "os/word_pages.hpp"

#include <errno.h>
#include <sys/mman.h>

#include <cassert>
#include <cstddef>

#include "os/os.hpp"

namespace fastpool::os {
namespace {

void* g_shared = nullptr;  // the one shared page, read-only once filled
std::uintptr_t g_word = 0;

void fill(void* page, std::uintptr_t word) noexcept {
  auto* w = static_cast<std::uintptr_t*>(page);
  for (std::size_t i = 0; i < page_size() / sizeof word; ++i) w[i] = word;
}

void* shared_page(std::uintptr_t word) noexcept {
  assert(g_shared == nullptr || g_word == word);
  if (g_shared != nullptr) return g_shared;
  void* p = mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  fill(p, word);
  if (mprotect(p, page_size(), PROT_READ) != 0) {
    munmap(p, page_size());
    return nullptr;
  }
  g_word = word;
  return g_shared = p;
}

}  // namespace

bool map_word_view(void* at, std::uintptr_t word) noexcept {
  int saved = errno;
  void* src = shared_page(word);
  // old_size 0: a second mapping of the same shared page (Linux), placed over `at`.
  bool ok = src != nullptr &&
            mremap(src, 0, page_size(), MREMAP_MAYMOVE | MREMAP_FIXED, at) != MAP_FAILED;
  errno = saved;
  return ok;
}

bool make_word_page_private(void* at, std::uintptr_t word) noexcept {
  int saved = errno;
  void* copy =
      mmap(nullptr, page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  bool ok = copy != MAP_FAILED;
  if (ok) {
    fill(copy, word);
    ok = mremap(copy, page_size(), page_size(), MREMAP_MAYMOVE | MREMAP_FIXED, at) != MAP_FAILED;
    if (!ok) munmap(copy, page_size());
  }
  errno = saved;
  return ok;
}

}  // namespace fastpool::os
