// Compiled in checked mode (FASTPOOL_SECURE=1, no NDEBUG), -Wpedantic -Werror: the sizes of
// the pools as this mode lays them out, for layout_test.cpp to compare with its own.
#include <array>
#include <cstddef>

#include "fastpool/fastpool.hpp"

std::array<std::size_t, 6> checked_pool_sizes() {
  using namespace fastpool;
  return {sizeof(FixedPool<int>),       sizeof(GrowingPool<int>),
          sizeof(ThreadLocalPool<int>), sizeof(ThreadSafePool<int>),
          sizeof(LockFreePool<int>),    sizeof(ThreadSafePool<int, BitmapStrategy>)};
}
