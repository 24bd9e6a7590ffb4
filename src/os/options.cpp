#include "os/options.hpp"

#include <cstdlib>

#include "os/os.hpp"

namespace fastpool {
namespace {

struct OptionEntry {
  const char* env;
  std::int64_t value;  // default until read
  bool read;
};

// One row per Option, in the enum's order.
OptionEntry g_options[] = {
    {"FASTPOOL_PURGE_DELAY_MS", 1000, false},
    {"FASTPOOL_VERBOSE", 0, false},
    {"FASTPOOL_SECURE", 0, false},
    {"FASTPOOL_SEGMENT_CACHE", 8, false},
};
static_assert(sizeof g_options / sizeof g_options[0] == static_cast<int>(Option::count_));

std::int64_t parse(const char* s, std::int64_t fallback) noexcept {
  if (s == nullptr || *s == '\0') return fallback;
  std::int64_t v = 0;
  bool neg = *s == '-';
  if (neg) ++s;
  for (; *s >= '0' && *s <= '9'; ++s) v = v * 10 + (*s - '0');
  return neg ? -v : v;
}

}  // namespace

std::int64_t option(Option o) noexcept {
  OptionEntry& e = g_options[static_cast<int>(o)];
  // Racing first reads compute the same value; a torn read is impossible for aligned int64.
  if (!__atomic_load_n(&e.read, __ATOMIC_ACQUIRE)) {
    e.value = parse(os::getenv(e.env), e.value);
    __atomic_store_n(&e.read, true, __ATOMIC_RELEASE);
  }
  return e.value;
}

}  // namespace fastpool
