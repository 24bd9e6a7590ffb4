// Runtime options: one table of FASTPOOL_* environment variables, read once on first
// use with a getenv that does not allocate. The table here is the documentation: the
// README's options table and `fastpool options` are printed from it.
#pragma once

#include <cstdint>

namespace fastpool {

enum class Option : int {
  purge_delay_ms,  // FASTPOOL_PURGE_DELAY_MS
  segment_cache,   // FASTPOOL_SEGMENT_CACHE
  show_stats,      // FASTPOOL_SHOW_STATS
  verbose,         // FASTPOOL_VERBOSE
  count_
};
inline constexpr int kOptionCount = static_cast<int>(Option::count_);

struct OptionInfo {
  const char* env;             // the environment variable
  std::int64_t default_value;  // when it is unset or malformed
  std::int64_t max_value;      // larger values are malformed
  const char* meaning;
};
const OptionInfo& option_info(Option o) noexcept;
// Parses a setting of o: a decimal in [0, max_value]. False (and *out untouched) when s
// is anything else; the library then keeps the default, the launcher refuses it.
bool parse_option(Option o, const char* s, std::int64_t* out) noexcept;

// The value in force (read from the environment on first use).
std::int64_t option(Option o) noexcept;
// Overrides the value in force (mallopt).
void set_option(Option o, std::int64_t value) noexcept;

}  // namespace fastpool
