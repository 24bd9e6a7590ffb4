// Compiled in checked mode (FASTPOOL_SECURE=1, no NDEBUG), -Wpedantic -Werror: the sizes of
// the pools as this mode lays them out, for layout_test.cpp to compare with its own.
#include <array>
#include <cstddef>
#include <string_view>

#include "fastpool/fastpool.hpp"

std::array<std::size_t, 6> checked_pool_sizes() {
  using namespace fastpool;
  return {sizeof(FixedPool<int>),       sizeof(GrowingPool<int>),
          sizeof(ThreadLocalPool<int>), sizeof(ThreadSafePool<int>),
          sizeof(LockFreePool<int>),    sizeof(ThreadSafePool<int, BitmapStrategy>)};
}

// A debug build's released object reads as the fill pattern (detail/poison.hpp); a type of
// its own, so that no unchecked translation unit instantiates the same pool.
struct FilledProbe {
  unsigned char bytes[32];
};
unsigned char released_byte_seen() {
  fastpool::FixedPool<FilledProbe> pool(2);
  FilledProbe* p;
  {
    auto h = pool.allocate();
    p = h.get();
    for (unsigned char& b : p->bytes) b = 1;
  }
  unsigned char seen = 0xDB;
  // The slot stays the pool's, so reading it is safe here; its first word is the free
  // list's link.
  for (std::size_t i = sizeof(void*); i < sizeof p->bytes; ++i)
    if (p->bytes[i] != 0xDB) seen = p->bytes[i];
  return seen;
}

// The type checked code sees: fastpool::checked::FixedPool (detail/diagnostics.hpp).
std::string_view checked_pool_type() {
  return fastpool::detail::type_name<fastpool::FixedPool<int>>();
}
