// With FASTPOOL_OVERRIDE_MALLOC=OFF, fastpool::override replaces new/delete only:
// operator new is fastpool's, malloc stays the C library's.
#include <cstdio>
#include <cstdlib>

#include "fastpool/fastpool.h"

int main() {
  auto* object = new int(42);
  void* block = std::malloc(64);
  bool new_is_ours = fp_owns(object) != 0;
  bool malloc_is_libc = fp_owns(block) == 0;
  std::printf("new from fastpool: %d, malloc from libc: %d\n", new_is_ours, malloc_is_libc);
  std::free(block);
  delete object;
  return new_is_ours && malloc_is_libc ? 0 : 1;
}
