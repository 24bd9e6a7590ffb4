// Game entities: waves spawn and despawn every frame from a FixedPool sized for the
// peak, so a frame never calls the general-purpose allocator. Despawning is dropping the
// handle. Exits non-zero if the pool's books do not balance.
#include <algorithm>
#include <cstdio>
#include <vector>

#include "fastpool/fastpool.hpp"

struct Entity {
  float x, y, vx, vy;
  int health;
  Entity(float px, float py, float dx, float dy) : x(px), y(py), vx(dx), vy(dy), health(100) {}
  bool alive() const { return health > 0; }
};

class EntityManager {
 public:
  explicit EntityManager(std::size_t capacity) : pool_(capacity) {}

  // Returns: false when the level is full (the pool is exhausted).
  bool spawn(float x, float y, float vx, float vy) {
    auto entity = pool_.try_allocate(x, y, vx, vy);
    if (!entity) return false;
    entities_.push_back(std::move(entity));
    return true;
  }
  void update(float dt) {
    for (auto& e : entities_) {
      e->x += e->vx * dt;
      e->y += e->vy * dt;
      e->health -= 7;
    }
    // Despawning is erasing: each handle returns its entity to the pool.
    std::erase_if(entities_, [](const fastpool::OwnedHandle<Entity>& e) { return !e->alive(); });
  }
  std::size_t live() const { return entities_.size(); }
  const fastpool::FixedPool<Entity>& pool() const { return pool_; }

 private:
  fastpool::FixedPool<Entity> pool_;  // declared first: outlives the handles below
  std::vector<fastpool::OwnedHandle<Entity>> entities_;
};

int main() {
  EntityManager world(10000);
  std::size_t refused = 0;
  for (int frame = 0; frame < 600; ++frame) {
    for (int i = 0; i < 500; ++i)
      if (!world.spawn(0, 0, static_cast<float>(i % 7), static_cast<float>(i % 5))) ++refused;
    world.update(1.0f / 60);
  }
  fastpool::PoolStatistics s = world.pool().statistics();
  std::printf("live %zu, peak %zu of %zu, refused %zu\n", world.live(), s.peak_usage, s.capacity,
              refused);
  std::printf("%s\n", s.to_string().c_str());
  // 500 spawned per frame, each lives 15 frames: 7500 at most at once.
  bool ok = world.live() == world.pool().in_use() && refused == 0 &&
            (!s.counted || (s.peak_usage == 7500 && s.total_allocations == 300000));
  return ok ? 0 : 1;
}
