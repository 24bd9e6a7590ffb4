// The benchmarked object: 64 bytes, built from one argument (one store), the same for
// the pools and for new/delete.
#pragma once

#include <cstdint>

struct Obj64 {
  std::uint64_t id;
  std::uint64_t payload[7];
  explicit Obj64(std::uint64_t i) noexcept : id(i) {}
};
static_assert(sizeof(Obj64) == 64);

// Makes `p` visible to the optimiser as used and memory as clobbered, so each iteration
// really allocates and releases (the pool's state is reloaded and stored every time).
inline void escape(const void* p) {
  asm volatile("" : : "r"(p) : "memory");
}
