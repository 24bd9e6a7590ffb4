// The typed pools' exceptions. Allocation that cannot be served throws pool_exhausted
// (a std::bad_alloc, so code written against `new` keeps working); a configuration that
// cannot work is rejected up front by PoolConfig::build with config_error.
//
// Without exceptions (-fno-exceptions), every throw of the headers is detail::raise,
// which prints what() ("fastpool: pool exhausted", "fastpool: capacity: must be greater
// than zero", ...) and aborts; the try_* forms never throw, so they work as usual; and
// FP_TRY / FP_CATCH_ALL / FP_RETHROW keep the cleanup code compiling (never run: nothing
// can throw through it).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define FP_EXCEPTIONS 1
#define FP_TRY try
#define FP_CATCH_ALL catch (...)
#define FP_RETHROW throw
#else
#define FP_TRY if constexpr (true)
#define FP_CATCH_ALL else
#define FP_RETHROW ((void)0)
#endif

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

namespace detail {
// Throws E(args...); without exceptions, reports its what() and aborts.
template <class E, class... Args>
[[noreturn]] void raise(Args&&... args) {
#ifdef FP_EXCEPTIONS
  throw E(std::forward<Args>(args)...);
#else
  E e(std::forward<Args>(args)...);
  const char* what = e.what();
  bool prefixed = std::string(what).rfind("fastpool: ", 0) == 0;
  std::fprintf(stderr, "%s%s (built without exceptions)\n", prefixed ? "" : "fastpool: ", what);
  std::abort();
#endif
}
}  // namespace detail

}  // namespace fastpool
