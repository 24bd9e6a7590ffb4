// Initialisation strategies (lazy, pre-initialised with reset) and Poolable hooks.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "fastpool/fastpool.hpp"

using namespace fastpool;

namespace {
struct Buffer {
  static inline int constructed = 0;
  static inline int destroyed = 0;
  std::vector<char> bytes;
  Buffer() { ++constructed; }
  Buffer(const Buffer&) = delete;  // never copied from a prototype
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { ++destroyed; }
};

struct Hooked {
  static inline int acquired = 0;
  static inline int released = 0;
  int value = 0;
  explicit Hooked(int v = 0) : value(v) {}
  void on_acquire() { ++acquired; }
  void on_release() { ++released; }
};
struct OnlyRelease {
  static inline int released = 0;
  void on_release() { ++released; }
};
}  // namespace

static_assert(Poolable<Hooked>);
static_assert(Poolable<OnlyRelease>);
static_assert(!Poolable<int>);

TEST_CASE("lazy: constructed on allocate, destroyed on release") {
  Buffer::constructed = Buffer::destroyed = 0;
  {
    FixedPool<Buffer> pool(10);
    CHECK(Buffer::constructed == 0);
    auto h = pool.allocate();
    CHECK(Buffer::constructed == 1);
    h.reset();
    CHECK(Buffer::destroyed == 1);
  }
  CHECK(Buffer::destroyed == 1);
}

namespace {
PoolConfig<Buffer> buffer_config(std::size_t n) {
  return PoolConfig<Buffer>::builder()
      .capacity(n)
      .pre_initialize(true)
      .initializer([] { return Buffer(); })  // a prvalue: built in place, never copied
      .reset([](Buffer& b) { b.bytes.clear(); })
      .build();
}
}  // namespace

TEST_CASE_TEMPLATE("pre-initialised: built once each, reset keeps capacity", Pool,
                   FixedPool<Buffer>, FixedPool<Buffer, FreeListStrategy>,
                   FixedPool<Buffer, BitmapStrategy>, ThreadLocalPool<Buffer>,
                   ThreadSafePool<Buffer>, LockFreePool<Buffer>) {
  Buffer::constructed = Buffer::destroyed = 0;
  {
    Pool pool(buffer_config(4));
    CHECK(Buffer::constructed == 4);
    std::vector<const char*> data;
    {
      std::vector<OwnedHandle<Buffer>> held;
      for (int i = 0; i < 4; ++i) {
        held.push_back(pool.allocate());
        CHECK(held.back()->bytes.empty());
        held.back()->bytes.resize(1000, 'x');
        data.push_back(held.back()->bytes.data());
      }
    }
    CHECK(Buffer::destroyed == 0);  // reset, not destroyed
    for (int i = 0; i < 4; ++i) {
      auto h = pool.allocate();
      CHECK(h->bytes.empty());
      CHECK(h->bytes.capacity() >= 1000);  // the buffer kept its memory
    }
    CHECK(Buffer::constructed == 4);
  }
  CHECK(Buffer::destroyed == 4);
}

TEST_CASE("pre-initialised growing pool builds each new chunk's objects") {
  Buffer::constructed = Buffer::destroyed = 0;
  {
    GrowingPool<Buffer> pool(buffer_config(2));
    std::vector<OwnedHandle<Buffer>> held;
    for (int i = 0; i < 3; ++i) held.push_back(pool.allocate());
    CHECK(pool.capacity() == 4);
    CHECK(Buffer::constructed == 4);
  }
  CHECK(Buffer::destroyed == 4);
}

TEST_CASE("pre-initialised: allocate(args) assigns; initializer throwing is clean") {
  FixedPool<std::string> pool(PoolConfig<std::string>::builder()
                                  .capacity(2)
                                  .pre_initialize(true)
                                  .initializer([] { return std::string("ready"); })
                                  .build());
  CHECK(*pool.allocate() == "ready");
  CHECK(*pool.allocate("assigned") == "assigned");
  int calls = 0;
  auto throwing = PoolConfig<std::string>::builder()
                      .capacity(5)
                      .pre_initialize(true)
                      .initializer([&] {
                        if (++calls == 3) throw std::runtime_error("third");
                        return std::string("x");
                      })
                      .build();
  CHECK_THROWS_AS(FixedPool<std::string>{throwing}, std::runtime_error);
}

namespace {
// Not assignable (a const member): a pre-initialised pool rebuilds its waiting object.
struct Tagged {
  const int tag;
  std::string name;
  Tagged(int t, std::string n) : tag(t), name(std::move(n)) {
    if (t < 0) throw std::invalid_argument("negative tag");
  }
};
}  // namespace

TEST_CASE("pre-initialised: allocate(args) on a T that cannot be assigned rebuilds it") {
  static_assert(!std::is_move_assignable_v<Tagged>);
  FixedPool<Tagged> pool(PoolConfig<Tagged>::builder()
                             .capacity(1)
                             .pre_initialize(true)
                             .initializer([] { return Tagged(0, "waiting"); })
                             .build());
  {
    auto h = pool.allocate(7, "seven");
    CHECK(h->tag == 7);
    CHECK(h->name == "seven");
  }
  CHECK_THROWS_AS((void)pool.allocate(-1, "bad"), std::invalid_argument);
  auto h = pool.allocate();  // the slot holds a fresh waiting object
  CHECK(h->tag == 0);
  CHECK(h->name == "waiting");
}

namespace {
struct CappedHookedPool : GrowingPool<Hooked> {
  explicit CappedHookedPool(std::size_t n)
      : GrowingPool<Hooked>(PoolConfig<Hooked>::builder().capacity(1).max_capacity(n).build()) {}
};
}  // namespace

TEST_CASE_TEMPLATE("hooks: called exactly once per hand-out and return", Pool, FixedPool<Hooked>,
                   CappedHookedPool, ThreadLocalPool<Hooked>, ThreadSafePool<Hooked>,
                   LockFreePool<Hooked>) {
  Hooked::acquired = Hooked::released = 0;
  Pool pool(3);
  {
    auto a = pool.allocate(1);
    CHECK(Hooked::acquired == 1);
    CHECK(Hooked::released == 0);
    auto s = pool.allocate_shared(2);
    SharedHandle<Hooked> s2 = s;
    CHECK(Hooked::acquired == 2);
    Hooked* raw = pool.create(3);
    CHECK(Hooked::acquired == 3);
    pool.destroy(raw);
    CHECK(Hooked::released == 1);
    s.reset();
    CHECK(Hooked::released == 1);
  }
  CHECK(Hooked::released == 3);
  auto batch = pool.allocate_batch(std::vector<int>{1, 2});
  CHECK(Hooked::acquired == 5);
  CHECK_THROWS((void)pool.allocate_batch(std::vector<int>{1, 2}));  // only 1 free
  CHECK(Hooked::acquired == 5);                                     // nothing handed out, no hook
  CHECK(Hooked::released == 3);
}

TEST_CASE("hooks: only on_release") {
  OnlyRelease::released = 0;
  FixedPool<OnlyRelease> pool(1);
  pool.allocate().reset();
  CHECK(OnlyRelease::released == 1);
}

namespace {
// Private hooks, reached through the befriended door.
class Secretive {
 public:
  static inline int acquired = 0, released = 0;

 private:
  friend fastpool::pool_access;
  void on_acquire() { ++acquired; }
  void on_release() noexcept { ++released; }
};
// Members that only happen to have the hooks' names, opted out.
struct Socket {
  int calls = 0;
  void on_acquire() { ++calls; }
  void on_release() noexcept { ++calls; }
};
}  // namespace
template <>
struct fastpool::pool_hooks<Socket> {
  static constexpr bool enabled = false;
};

TEST_CASE("hooks: private ones run through pool_access; pool_hooks opts a type out") {
  static_assert(HasOnAcquire<Secretive> && HasOnRelease<Secretive>);
  static_assert(!HasOnAcquire<Socket> && !HasOnRelease<Socket>);
  FixedPool<Secretive> pool(2);
  {
    auto h = pool.allocate();
    CHECK(Secretive::acquired == 1);
    CHECK(Secretive::released == 0);
  }
  CHECK(Secretive::released == 1);
  FixedPool<Socket> sockets(2);
  auto s = sockets.allocate();
  CHECK(s->calls == 0);
}
