// Built with -fno-exceptions: every pool compiles and works, the try_* forms report
// exhaustion with an empty handle or null, and a throwing form aborts with a clear message
// (`no_exceptions exhausted`, `no_exceptions config`: ctest checks the message).
#include <cstdio>
#include <cstring>
#include <vector>

#include "fastpool/fastpool.hpp"

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#error "this file must be compiled with -fno-exceptions"
#endif

namespace {
int failures = 0;
void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAIL: %s\n", what);
    ++failures;
  }
}

template <class Pool>
void exercise(const char* name) {
  Pool pool(2);
  auto a = pool.try_allocate(1);
  auto b = pool.allocate(2);
  check(a && b && *a == 1 && *b == 2, name);
  check(!pool.try_allocate(3), name);  // exhausted: empty, no abort
  check(pool.try_create(4) == nullptr, name);
  a.reset();
  int* p = pool.try_create(5);
  check(p != nullptr && *p == 5, name);
  pool.destroy(p);
  auto batch = pool.allocate_batch({7});
  check(batch.size() == 1 && *batch[0] == 7, name);
}
}  // namespace

int main(int argc, char** argv) {
  using namespace fastpool;
  if (argc == 2 && std::strcmp(argv[1], "exhausted") == 0) {
    FixedPool<int> pool(1);
    auto a = pool.allocate(1);
    auto b = pool.allocate(2);  // aborts
    return 0;
  }
  if (argc == 2 && std::strcmp(argv[1], "config") == 0) {
    FixedPool<int> pool(0);  // aborts
    return 0;
  }
  exercise<FixedPool<int>>("FixedPool");
  exercise<ThreadLocalPool<int>>("ThreadLocalPool");
  exercise<ThreadSafePool<int>>("ThreadSafePool");
  exercise<LockFreePool<int>>("LockFreePool");
  GrowingPool<int> growing(PoolConfig<int>::builder().capacity(1).max_capacity(3).build());
  std::vector<OwnedHandle<int>> held;
  while (auto h = growing.try_allocate(1)) held.push_back(std::move(h));
  check(held.size() == 3 && growing.capacity() == 3, "GrowingPool");
  ThreadSafePool<int> shared(PoolConfig<int>::builder().capacity(1).max_capacity(4).build());
  std::vector<OwnedHandle<int>> more;
  while (auto h = shared.try_allocate(1)) more.push_back(std::move(h));
  check(more.size() == 4, "ThreadSafePool growth");
  if (failures == 0) std::puts("no exceptions: ok");
  return failures != 0;
}
