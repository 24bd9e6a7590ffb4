#include "segment/meta.hpp"

#include <pthread.h>

#include <cstdint>

#include "os/os.hpp"

namespace fastpool::meta {
namespace {

constexpr std::size_t kChunk = std::size_t{1} << 20;

// Guarded by g_lock.
pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
char* g_bump = nullptr;
char* g_end = nullptr;
std::size_t g_mapped = 0;

}  // namespace

void* allocate(std::size_t size, std::size_t alignment) noexcept {
  pthread_mutex_lock(&g_lock);
  auto aligned = (reinterpret_cast<std::uintptr_t>(g_bump) + alignment - 1) & ~(alignment - 1);
  char* p = reinterpret_cast<char*>(aligned);
  if (g_bump == nullptr || p + size > g_end) {
    std::size_t chunk = size > kChunk ? (size + kChunk - 1) & ~(kChunk - 1) : kChunk;
    p = static_cast<char*>(os::map_aligned(chunk, os::page_size()));
    if (p != nullptr) {
      g_end = p + chunk;
      g_mapped += chunk;
    }
  }
  if (p != nullptr) g_bump = p + size;
  pthread_mutex_unlock(&g_lock);
  return p;
}

std::size_t bytes_mapped() noexcept {
  return __atomic_load_n(&g_mapped, __ATOMIC_RELAXED);
}

pthread_mutex_t& fork_lock() noexcept {
  return g_lock;
}

}  // namespace fastpool::meta
