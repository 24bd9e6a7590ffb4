// PoolStatistics: a snapshot of a pool's counters. The counters cost nothing unless the
// build defines FASTPOOL_STATS (CMake option FASTPOOL_STATS, on by default); without it
// statistics() still reports capacity, in_use and growth_count, and `counted` is false.
#pragma once

#include <cstddef>
#include <ostream>
#include <sstream>
#include <string>

namespace fastpool {

#if defined(FASTPOOL_STATS) && FASTPOOL_STATS
inline constexpr bool kStatisticsEnabled = true;
#else
inline constexpr bool kStatisticsEnabled = false;
#endif

struct PoolStatistics {
  std::size_t capacity = 0;
  std::size_t in_use = 0;
  std::size_t peak_usage = 0;  // most objects out at once
  std::size_t total_allocations = 0;
  std::size_t total_deallocations = 0;
  std::size_t allocation_failures = 0;  // requests the pool could not serve
  std::size_t growth_count = 0;
  bool counted = kStatisticsEnabled;  // false: only capacity/in_use/growth_count are real

  // Returns: in_use / capacity, in [0, 1].
  double utilization_rate() const noexcept {
    return capacity == 0 ? 0.0 : static_cast<double>(in_use) / static_cast<double>(capacity);
  }
  // Returns: the fraction of allocation requests served, in [0, 1]; 1 when none yet.
  double hit_rate() const noexcept {
    std::size_t asked = total_allocations + allocation_failures;
    return asked == 0 ? 1.0 : static_cast<double>(total_allocations) / static_cast<double>(asked);
  }

  std::string to_string() const {
    std::ostringstream out;
    out << *this;
    return out.str();
  }

  friend std::ostream& operator<<(std::ostream& out, const PoolStatistics& s) {
    out << "capacity=" << s.capacity << " in_use=" << s.in_use;
    if (s.counted)
      out << " peak=" << s.peak_usage << " allocations=" << s.total_allocations
          << " deallocations=" << s.total_deallocations << " failures=" << s.allocation_failures;
    return out << " growths=" << s.growth_count << " utilization=" << s.utilization_rate() * 100
               << "%";
  }
};

}  // namespace fastpool
