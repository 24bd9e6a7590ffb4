// Each argument names one client misuse; the program must abort with fastpool's message
// (ctest checks the message with PASS_REGULAR_EXPRESSION). Exit 0 means "not detected".
#include <cstdio>
#include <cstring>
#include <thread>

#include "fastpool/fastpool.hpp"

struct Widget {
  int value = 0;
};

// The seed guide's gotcha: the handle outlives its pool. Checked mode stops it where the
// pool goes (its destructor sees the object still out), before the handle can be used.
fastpool::OwnedHandle<Widget> make_widget() {
  fastpool::FixedPool<Widget> pool(4);
  return pool.allocate(Widget{42});
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const char* c = argv[1];
  if (std::strcmp(c, "foreign") == 0) {
    fastpool::FixedPool<Widget> pool(4);
    Widget outside;
    pool.destroy(&outside);
  } else if (std::strcmp(c, "double_destroy") == 0) {
    fastpool::FixedPool<Widget> pool(4);
    Widget* w = pool.create();
    pool.destroy(w);
    pool.destroy(w);
  } else if (std::strcmp(c, "destroyed_in_use") == 0) {
    // The objects are taken out of their handles: handles outliving their pool would
    // release into freed memory when the checked build does not abort (release builds).
    auto* pool = new fastpool::FixedPool<Widget>(4);
    (void)pool->allocate().release();
    (void)pool->allocate().release();
    delete pool;
  } else if (std::strcmp(c, "wrong_thread") == 0) {
    fastpool::ThreadLocalPool<Widget> pool(4);
    std::thread([&] { (void)pool.try_allocate(); }).join();
  } else if (std::strcmp(c, "growing_foreign") == 0) {
    fastpool::GrowingPool<Widget> pool(4);
    fastpool::GrowingPool<Widget> other(4);
    Widget* w = other.create();
    pool.destroy(w);
  } else if (std::strcmp(c, "handle_outlives_pool") == 0) {
    auto h = make_widget();
    std::printf("%d\n", h->value);
  } else if (std::strcmp(c, "growing_shared_double") == 0) {
    fastpool::ThreadSafePool<Widget> pool(
        fastpool::PoolConfig<Widget>::builder().capacity(1).max_capacity(8).build());
    auto first = pool.allocate();
    Widget* w = pool.create();  // from the grown chain
    pool.destroy(w);
    pool.destroy(w);
  } else if (std::strcmp(c, "lockfree_double") == 0) {
    fastpool::LockFreePool<Widget> pool(4);
    Widget* w = pool.create();
    pool.destroy(w);
    pool.destroy(w);
  } else {
    return 2;
  }
  std::puts("misuse not detected");
  return 0;
}
