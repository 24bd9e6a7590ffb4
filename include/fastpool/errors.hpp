// The typed pools' exceptions. Allocation that cannot be served throws pool_exhausted
// (a std::bad_alloc, so code written against `new` keeps working); a configuration that
// cannot work is rejected up front by PoolConfig::build with config_error.
#pragma once

#include <new>
#include <stdexcept>
#include <string>

namespace fastpool {

// Thrown by allocate()/allocate_batch()/allocate_shared() when the pool has no free slot
// and may not grow (fixed capacity, or max_capacity reached, or out of memory).
class pool_exhausted : public std::bad_alloc {
 public:
  const char* what() const noexcept override { return "fastpool: pool exhausted"; }
};

// Thrown by PoolConfig<T>::Builder::build() and pool constructors. what() begins with
// the name of the offending field, e.g. "capacity: must be greater than zero".
class config_error : public std::invalid_argument {
 public:
  config_error(const std::string& field, const std::string& problem)
      : std::invalid_argument(field + ": " + problem), field_(field) {}
  // The builder method that holds the bad value ("capacity", "alignment", ...).
  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

}  // namespace fastpool
