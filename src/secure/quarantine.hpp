// The hardened layer's quarantine: released small blocks wait here, per thread (64 blocks,
// 4 MiB), and a random one goes back to the core per release, so the next mallocs of a
// class, and smaller requests, do not get the block just freed.
#pragma once

#include <cstddef>

namespace fastpool::secure {

// REQUIRES: b is a released, filled small block of `bytes` bytes.
void quarantine(char* b, std::size_t bytes) noexcept;

}  // namespace fastpool::secure
