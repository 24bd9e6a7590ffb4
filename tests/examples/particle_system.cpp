// A particle system: an emitter adds particles each frame, update() ages them and drops
// the dead ones, whose slots are reused by the next emission. The pool is a
// ThreadLocalPool (the render thread owns it) with 64-byte slots, one particle per cache
// line. Exits non-zero if the count of live particles drifts from the pool's.
#include <algorithm>
#include <cstdio>
#include <vector>

#include "fastpool/fastpool.hpp"

struct Particle {
  float position[3];
  float velocity[3];
  float lifetime;
  Particle(float life, float speed)
      : position{0, 0, 0}, velocity{speed, speed * 0.5f, 0}, lifetime(life) {}
};

class ParticleSystem {
 public:
  explicit ParticleSystem(std::size_t max_particles)
      : pool_(fastpool::PoolConfig<Particle>::builder()
                  .capacity(max_particles)
                  .alignment(64)
                  .build()) {}

  void emit(float life, float speed) {
    // A full system drops the particle: better than a frame hitch.
    if (auto p = pool_.try_allocate(life, speed)) particles_.push_back(std::move(p));
  }
  void update(float dt) {
    for (auto& p : particles_) {
      for (int i = 0; i < 3; ++i) p->position[i] += p->velocity[i] * dt;
      p->lifetime -= dt;
    }
    std::erase_if(particles_, [](const auto& p) { return p->lifetime <= 0; });
  }
  std::size_t count() const { return particles_.size(); }
  const fastpool::ThreadLocalPool<Particle>& pool() const { return pool_; }

 private:
  fastpool::ThreadLocalPool<Particle> pool_;
  std::vector<fastpool::OwnedHandle<Particle>> particles_;
};

int main() {
  ParticleSystem system(50000);
  const float dt = 1.0f / 60;
  for (int frame = 0; frame < 300; ++frame) {
    for (int i = 0; i < 1000; ++i) system.emit(0.5f + static_cast<float>(i % 60) * dt, 2.0f);
    system.update(dt);
  }
  auto s = system.pool().statistics();
  std::printf("%zu particles alive; %s\n", system.count(), s.to_string().c_str());
  return system.count() == system.pool().in_use() && system.count() > 0 ? 0 : 1;
}
