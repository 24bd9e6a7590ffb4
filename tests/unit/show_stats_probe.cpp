// Run with FASTPOOL_SHOW_STATS=1: the report at exit lists the global heap and the typed
// pools, live and destroyed (ctest `show_stats_report` matches its lines).
#include <cstdlib>
#include <vector>

#include "fastpool/fastpool.hpp"

struct Particle {
  float x, y, z;
};

int main() {
  {
    fastpool::FixedPool<int> scratch(64);  // destroyed before exit: its last figures
    auto a = scratch.allocate(1);
    auto b = scratch.allocate(2);
  }
  // Live at exit (never destroyed): reported as it stands.
  auto* particles = new fastpool::GrowingPool<Particle>(
      fastpool::PoolConfig<Particle>::builder().capacity(16).build());
  std::vector<fastpool::GrowingPool<Particle>::handle> held;
  for (int i = 0; i < 100; ++i) held.push_back(particles->allocate(Particle{1, 2, 3}));
  held.clear();  // objects back; the pool stays
  void* p = std::malloc(1000);
  std::free(p);
  return 0;
}
