// Fixed work for callgrind: `pair_count <pool> <n>` does n allocate+release pairs of a
// 64-byte object through OwnedHandle. scripts/typed_speed.sh runs it for two n and
// divides the difference of the instruction counts by the difference of n, so setup
// and teardown cancel out; `loop` is the same loop with no pool, to subtract.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fastpool/fastpool.hpp"
#include "obj64.hpp"

template <class Pool>
__attribute__((noinline)) void pairs(Pool& pool, long n) {
  for (long i = 0; i < n; ++i) {
    auto h = pool.allocate(static_cast<std::uint64_t>(i));
    escape(h.get());
  }
}

__attribute__((noinline)) void empty_loop(long n) {
  for (long i = 0; i < n; ++i) {
    Obj64 local(static_cast<std::uint64_t>(i));
    escape(&local);
  }
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  long n = std::atol(argv[2]);
  if (std::strcmp(argv[1], "fixed") == 0) {
    fastpool::FixedPool<Obj64> pool(1024);
    pairs(pool, n);
  } else if (std::strcmp(argv[1], "fixed-freelist") == 0) {
    fastpool::FixedPool<Obj64, fastpool::FreeListStrategy> pool(1024);
    pairs(pool, n);
  } else if (std::strcmp(argv[1], "thread-local") == 0) {
    fastpool::ThreadLocalPool<Obj64> pool(1024);
    pairs(pool, n);
  } else if (std::strcmp(argv[1], "thread-safe") == 0) {
    fastpool::ThreadSafePool<Obj64> pool(1024);
    pairs(pool, n);
  } else if (std::strcmp(argv[1], "loop") == 0) {
    empty_loop(n);
  } else {
    return 2;
  }
  return 0;
}
