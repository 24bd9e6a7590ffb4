// new/delete misuse a compiler cannot see: scalar/array mismatches and wrong sized
// deletes, on trivially destructible types (no array cookie to trip over).
#include <new>

extern "C" {
#include "probe.h"
}

namespace {

void array_new_scalar_delete(size_t n) {
  char* p = new char[n];
  ::operator delete(opaque(p));
  keep_going(n);
}

void scalar_new_array_delete(size_t n) {
  void* p = ::operator new(n);
  ::operator delete[](opaque(p));
  keep_going(n);
}

void sized_delete_wrong(size_t n) {
  void* p = ::operator new(n);
  ::operator delete(opaque(p), 2 * n + 4096);
  keep_going(n);
}

void sized_delete_smaller(size_t n) {
  void* p = ::operator new(n);
  ::operator delete(opaque(p), n / 2);
  keep_going(n);
}

}  // namespace

int main(int argc, char** argv) {
  static const probe probes[] = {{"array_new_scalar_delete", array_new_scalar_delete},
                                 {"scalar_new_array_delete", scalar_new_array_delete},
                                 {"sized_delete_wrong", sized_delete_wrong},
                                 {"sized_delete_smaller", sized_delete_smaller},
                                 {nullptr, nullptr}};
  return run_probe(probes, argc, argv);
}
