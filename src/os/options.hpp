// Runtime options: one table of FASTPOOL_* environment variables, read once on first
// use with a getenv that does not allocate. Documented in the README's options table.
#pragma once

#include <cstdint>

namespace fastpool {

enum class Option : int {
  purge_delay_ms,  // FASTPOOL_PURGE_DELAY_MS: how long freed memory waits before purge
  verbose,         // FASTPOOL_VERBOSE: print statistics at exit
  segment_cache,   // FASTPOOL_SEGMENT_CACHE: empty segments kept mapped for reuse
  count_
};

std::int64_t option(Option o) noexcept;

}  // namespace fastpool
