// A game frame loop: entities spawn and die, every entity emits particles that live a few
// dozen frames. The loop is templated on where objects come from, so the same frames run with
// new/delete (game_frame_new.cpp) and with fastpool typed pools (game_frame_pool.cpp).
// Spawning stops at fixed caps, so both variants see the same objects and a fixed-capacity
// pool never runs out.
#pragma once

#include <cstdint>
#include <vector>

#include "common.hpp"

namespace bench {

constexpr std::size_t kMaxEntities = 4096;
constexpr std::size_t kMaxParticles = 65536;
constexpr long kFrames = 6000;

struct Entity {
  std::uint64_t magic;
  std::uint32_t id;
  float pos[3];
  float vel[3];
  int health;
  char name[40];
  Entity(std::uint32_t i, float x)
      : magic(0xe17e17), id(i), pos{x, 0, 0}, vel{1, 0.5f, 0}, health(100) {
    for (char& c : name) c = static_cast<char>('a' + i % 26);
  }
};

struct Particle {
  std::uint64_t magic;
  float pos[3];
  float vel[3];
  int life;
  Particle(const Entity& from, int frames)
      : magic(0xba1100), pos{from.pos[0], from.pos[1], from.pos[2]}, vel{0, 1, 0}, life(frames) {}
};

// Factory: T* make<T>(args...) and void drop(T*).
template <typename Factory>
std::uint64_t run_frames(Factory& factory, long frames) {
  Rng rng(2024);
  std::vector<Entity*> entities;
  std::vector<Particle*> particles;
  std::uint64_t spawned = 0;

  for (long f = 0; f < frames; ++f) {
    for (std::uint64_t n = rng.range(5, 15); n > 0 && entities.size() < kMaxEntities; --n) {
      entities.push_back(
          factory.template make<Entity>(static_cast<std::uint32_t>(spawned++), 1.0f));
    }
    for (std::size_t i = 0; i < entities.size();) {
      Entity* e = entities[i];
      check(e->magic == 0xe17e17 && e->name[0] == static_cast<char>('a' + e->id % 26),
            "entity corrupted");
      for (int k = 0; k < 3; ++k) e->pos[k] += e->vel[k];
      for (std::uint64_t n = rng.range(0, 3); n > 0 && particles.size() < kMaxParticles; --n) {
        particles.push_back(
            factory.template make<Particle>(*e, static_cast<int>(rng.range(10, 40))));
      }
      if (rng.next() % 100 == 0) {  // dies: swap-remove
        factory.drop(e);
        entities[i] = entities.back();
        entities.pop_back();
      } else {
        ++i;
      }
    }
    for (std::size_t i = 0; i < particles.size();) {
      Particle* p = particles[i];
      check(p->magic == 0xba1100 && p->life > 0, "particle corrupted");
      for (int k = 0; k < 3; ++k) p->pos[k] += p->vel[k];
      if (--p->life == 0) {
        factory.drop(p);
        particles[i] = particles.back();
        particles.pop_back();
      } else {
        ++i;
      }
    }
  }
  for (Entity* e : entities) factory.drop(e);
  for (Particle* p : particles) factory.drop(p);
  return spawned;
}

}  // namespace bench
