// Fixed work for callgrind: `pair_count <pool> <n>` does n allocate+release pairs of a
// 64-byte object through the handle `pool.allocate()` returns (`<pool>-raw`: through
// create/destroy, `<pool>-erased`: through the type-erased OwnedHandle<T>).
// scripts/typed_speed.sh runs it for two n and divides the difference of the
// instruction counts by the difference of n, so setup and teardown cancel out; `loop` is
// the same loop with no pool, to subtract.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fastpool/fastpool.hpp"
#include "obj64.hpp"

template <class Pool>
__attribute__((noinline)) void pairs(Pool& pool, long n) {
  for (long i = 0; i < n; ++i) {
    auto h = pool.allocate(static_cast<std::uint64_t>(i));
    escape(h.get());
  }
}

template <class Pool>
__attribute__((noinline)) void raw_pairs(Pool& pool, long n) {
  for (long i = 0; i < n; ++i) {
    Obj64* p = pool.create(static_cast<std::uint64_t>(i));
    escape(p);
    pool.destroy(p);
  }
}

template <class Pool>
__attribute__((noinline)) void erased_pairs(Pool& pool, long n) {
  for (long i = 0; i < n; ++i) {
    fastpool::OwnedHandle<Obj64> h = pool.allocate(static_cast<std::uint64_t>(i));
    escape(h.get());
  }
}

template <class Pool>
int run(const char* mode, long n) {
  Pool pool(1024);
  if (std::strcmp(mode, "") == 0)
    pairs(pool, n);
  else if (std::strcmp(mode, "-raw") == 0)
    raw_pairs(pool, n);
  else if (std::strcmp(mode, "-erased") == 0)
    erased_pairs(pool, n);
  else
    return 2;
  return 0;
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
  if (std::strcmp(argv[1], "loop") == 0) {
    empty_loop(n);
    return 0;
  }
  // "<pool>[-raw|-erased]"
  std::string pool = argv[1];
  const char* mode = "";
  for (const char* suffix : {"-raw", "-erased"})
    if (pool.size() > std::strlen(suffix) &&
        pool.compare(pool.size() - std::strlen(suffix), std::string::npos, suffix) == 0) {
      mode = suffix;
      pool.resize(pool.size() - std::strlen(suffix));
    }
  using namespace fastpool;
  if (pool == "fixed") return run<FixedPool<Obj64>>(mode, n);
  if (pool == "fixed-stack") return run<FixedPool<Obj64, StackStrategy>>(mode, n);
  if (pool == "thread-local") return run<ThreadLocalPool<Obj64>>(mode, n);
  if (pool == "thread-safe") return run<ThreadSafePool<Obj64>>(mode, n);
  if (pool == "lock-free") return run<LockFreePool<Obj64>>(mode, n);
  return 2;
}
