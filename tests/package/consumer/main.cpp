// Built against an installed fastpool (find_package or pkg-config): the override (when
// CONSUMER_OVERRIDE), the typed pools and the C API all work. Prints one line per check.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fastpool/fastpool.h"
#include "fastpool/fastpool.hpp"

namespace {
int failures = 0;
void check(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
  if (!ok) ++failures;
}
}  // namespace

int main() {
  auto* object = new std::string(100, 'x');
  void* block = std::malloc(64);
#ifdef CONSUMER_OVERRIDE
  check(fp_owns(object->data()) && fp_owns(object), "new is fastpool's");
  check(fp_owns(block) != 0, "malloc is fastpool's");
#else
  check(fp_owns(block) == 0, "malloc stays the C library's");
#endif
  std::free(block);
  delete object;

  fastpool::FixedPool<int> pool(8);
  {
    auto a = pool.allocate(41);
    auto b = pool.allocate(1);
    check(*a + *b == 42 && pool.statistics().in_use == 2, "typed pool");
  }
  check(pool.statistics().in_use == 0, "typed pool handles give back");

  void* p = fp_malloc(1000);
  check(p != nullptr && fp_usable_size(p) >= 1000 && fp_owns(p), "C API");
  fp_free(p);
  fp_stats s;
  fp_get_stats(&s);
  check(s.version == FP_STATS_VERSION && s.heaps_live >= 1, "statistics");
  return failures == 0 ? 0 : 1;
}
