// One bug per run, each a misuse of a typed pool that AddressSanitizer must report
// (detail/poison.hpp): built and run only in a sanitizer tree with address in
// FASTPOOL_TYPED_SANITIZER (ctest typed_asan_*, label sanitize).
#include <cstdio>
#include <cstring>
#include <string>

#include "fastpool/fastpool.hpp"

namespace {
struct Item {
  long a, b, c, d;
};
volatile long sink;
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const char* c = argv[1];
  if (std::strcmp(c, "read_after_release") == 0) {
    fastpool::FixedPool<Item> pool(4);
    Item* p = pool.allocate(Item{1, 2, 3, 4}).get();  // the handle returns it at once
    sink = p->c;
  } else if (std::strcmp(c, "write_after_release") == 0) {
    fastpool::GrowingPool<Item> pool(4);
    Item* p = pool.create(Item{1, 2, 3, 4});
    pool.destroy(p);
    p->b = 5;
  } else if (std::strcmp(c, "string_after_destroy") == 0) {
    fastpool::ThreadSafePool<std::string> pool(4);
    std::string* s = pool.create(100, 'x');
    const char* chars = s->data();
    pool.destroy(s);
    sink = s->size() + static_cast<long>(chars != nullptr);
  } else if (std::strcmp(c, "destroyed_pool") == 0) {
    Item* p;
    {
      fastpool::LockFreePool<Item> pool(4);
      p = pool.create(Item{1, 2, 3, 4});
      pool.destroy(p);
    }
    sink = p->a;
  } else if (std::strcmp(c, "overflow_neighbour") == 0) {
    fastpool::FixedPool<Item> pool(4);
    Item* p = pool.create(Item{1, 2, 3, 4});
    std::memset(p, 0, sizeof(Item) + 8);  // into the next slot, never handed out
  } else {
    std::fprintf(stderr, "unknown case %s\n", c);
    return 2;
  }
  std::puts("misuse not reported");
  return 0;
}
