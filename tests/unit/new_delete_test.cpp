// Every replaceable operator new/delete form reaches fastpool, and failure follows the
// standard: new-handler loop, then std::bad_alloc; nothrow forms return nullptr.
#include <doctest/doctest.h>
#include <stdint.h>

#include <map>
#include <memory>
#include <new>
#include <string>

#include "owns.hpp"

namespace {
bool aligned(const void* p, std::size_t a) {
  return reinterpret_cast<uintptr_t>(p) % a == 0;
}
struct alignas(256) Wide {
  char bytes[300];
};
}  // namespace

TEST_CASE("all operator new forms are served by fastpool") {
  auto* a = new int(7);
  CHECK(fastpool_owns(a));
  delete a;
  auto* b = new int[100];
  CHECK(fastpool_owns(b));
  delete[] b;
  auto* c = new (std::nothrow) double(1.0);
  CHECK(fastpool_owns(c));
  delete c;
  auto* d = new (std::nothrow) char[3];
  CHECK(fastpool_owns(d));
  delete[] d;
  auto* w = new Wide;
  CHECK(fastpool_owns(w));
  CHECK(aligned(w, 256));
  delete w;
  auto* wa = new Wide[3];
  CHECK(aligned(wa, 256));
  delete[] wa;
  void* e = ::operator new (100, std::align_val_t{4096});
  CHECK(aligned(e, 4096));
  ::operator delete (e, 100, std::align_val_t{4096});
  void* f = ::operator new[](10, std::align_val_t{64}, std::nothrow);
  CHECK(aligned(f, 64));
  ::operator delete[](f, std::align_val_t{64}, std::nothrow);
  void* g = ::operator new(33);
  ::operator delete(g, 33);
}

TEST_CASE("standard containers run on it") {
  std::map<int, std::string> m;
  for (int i = 0; i < 20000; ++i) m[i] = std::to_string(i) + " is a number long enough";
  CHECK(m.size() == 20000);
  CHECK(m[12345] == "12345 is a number long enough");
  auto sp = std::make_shared<std::string>(1000, 'x');
  CHECK(fastpool_owns(sp.get()));
}

namespace {
int g_handler_calls = 0;
void counting_handler() {
  if (++g_handler_calls == 3) std::set_new_handler(nullptr);
}
}  // namespace

TEST_CASE("new runs the new-handler until it gives up, then throws bad_alloc") {
  g_handler_calls = 0;
  std::set_new_handler(counting_handler);
  CHECK_THROWS_AS((void)::operator new (std::size_t{1} << 47), std::bad_alloc);
  CHECK(g_handler_calls == 3);
  std::set_new_handler(nullptr);
  CHECK_THROWS_AS((void)::operator new[](SIZE_MAX / 2), std::bad_alloc);
  CHECK_THROWS_AS((void)::operator new (SIZE_MAX / 2, std::align_val_t{64}), std::bad_alloc);
}

TEST_CASE("nothrow new returns nullptr, also when the handler throws") {
  std::set_new_handler(nullptr);
  CHECK(::operator new(SIZE_MAX / 2, std::nothrow) == nullptr);
  CHECK(::operator new[](SIZE_MAX / 2, std::align_val_t{32}, std::nothrow) == nullptr);
  std::set_new_handler([] { throw std::bad_alloc(); });
  CHECK(::operator new(SIZE_MAX / 2, std::nothrow) == nullptr);
  std::set_new_handler(nullptr);
}
