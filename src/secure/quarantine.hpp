// The hardened layer's quarantine: released small blocks wait here, per thread (64 slots,
// 4 MiB); each release takes a random slot and gives its block back to the core, checked
// (check_freed), so the next mallocs of a class, and smaller requests, do not get the
// block just freed, and the order blocks come back in cannot be predicted.
#pragma once

#include "secure/freed.hpp"

namespace fastpool::secure {

// REQUIRES: r is a released small block, filled (fill_freed).
void quarantine(const Released& r) noexcept;

}  // namespace fastpool::secure
