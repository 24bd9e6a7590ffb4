// The game frame loop with entities and particles from fastpool::FixedPool typed pools.
#include <fastpool/fastpool.hpp>

#include <type_traits>
#include <utility>

#include "game_frame.hpp"

namespace {

struct TypedPools {
  fastpool::FixedPool<bench::Entity> entities{bench::kMaxEntities};
  fastpool::FixedPool<bench::Particle> particles{bench::kMaxParticles};

  template <typename T>
  fastpool::FixedPool<T>& pool() {
    if constexpr (std::is_same_v<T, bench::Entity>) {
      return entities;
    } else {
      return particles;
    }
  }
  template <typename T, typename... Args>
  T* make(Args&&... args) {
    T* p = pool<T>().create(std::forward<Args>(args)...);
    bench::check(p != nullptr, "pool exhausted");
    return p;
  }
  template <typename T>
  void drop(T* p) {
    pool<T>().destroy(p);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const bench::Args args = bench::parse_args(argc, argv);
  TypedPools factory;
  const std::uint64_t spawned = bench::run_frames(factory, bench::scaled(bench::kFrames, args));
  bench::check(spawned > 0, "nothing spawned");
  return 0;
}
