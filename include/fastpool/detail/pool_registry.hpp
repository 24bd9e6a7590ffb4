// The registry of live typed pools, so that one statistics report (FASTPOOL_SHOW_STATS,
// fp_print_stats, malloc_stats) shows them beside the global heap. Only with statistics
// compiled in (FASTPOOL_STATS): otherwise a pool carries and calls nothing of this.
//
// Ownership: a record lives inside its pool; the pool adds it when it is built and takes
// it out when it is destroyed (before its members go). The library keeps the list, under
// a mutex; a pool destroyed while FASTPOOL_SHOW_STATS is on leaves its last figures in
// a bounded table, so pools that did not live until exit are reported too.
#pragma once

#include <cstddef>
#include <string_view>

#include "fastpool/detail/diagnostics.hpp"
#include "fastpool/statistics.hpp"

namespace fastpool::detail {

struct PoolRecord {
  const void* pool;
  PoolStatistics (*read)(const void* pool) noexcept;
  const char* type;  // not NUL-terminated: type_length bytes
  std::size_t type_length;
  std::size_t object_size;
  PoolRecord* next = nullptr;  // the registry's links (its mutex guards them)
  PoolRecord* prev = nullptr;
};

// In the library (src/api/stats.cpp).
FP_PUBLIC void register_pool(PoolRecord* r) noexcept;
FP_PUBLIC void unregister_pool(PoolRecord* r) noexcept;

template <class Pool, bool Enabled = kStatisticsEnabled>
class PoolRegistration {
 public:
  explicit PoolRegistration(const Pool*) noexcept {}
  void retire() noexcept {}
};

template <class Pool>
class PoolRegistration<Pool, true> {
 public:
  explicit PoolRegistration(const Pool* pool) noexcept
      : record_{pool, &read, type_name<Pool>().data(), type_name<Pool>().size(),
                sizeof(typename Pool::value_type)} {
    register_pool(&record_);
  }
  PoolRegistration(const PoolRegistration&) = delete;
  PoolRegistration& operator=(const PoolRegistration&) = delete;
  ~PoolRegistration() { retire(); }

  // The pool's destructor calls this first, while every member can still be read.
  void retire() noexcept {
    if (record_.pool == nullptr) return;
    unregister_pool(&record_);
    record_.pool = nullptr;
  }

 private:
  static PoolStatistics read(const void* pool) noexcept {
    return static_cast<const Pool*>(pool)->statistics();
  }
  PoolRecord record_;
};

}  // namespace fastpool::detail
