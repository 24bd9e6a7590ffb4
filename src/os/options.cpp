#include "os/options.hpp"

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
    {"FASTPOOL_SEGMENT_CACHE", 8, false},
};
static_assert(sizeof g_options / sizeof g_options[0] == static_cast<int>(Option::count_));

// A non-negative decimal; anything else keeps the default, with a word on stderr.
std::int64_t parse(const char* name, const char* s, std::int64_t fallback) noexcept {
  if (s == nullptr) return fallback;
  std::int64_t v = 0;
  const char* c = s;
  for (; *c >= '0' && *c <= '9' && v < (std::int64_t{1} << 40); ++c) v = v * 10 + (*c - '0');
  if (c == s || *c != '\0') {
    os::Message m;
    m << "fastpool: ignoring " << name << "=" << s << " (not a non-negative integer)\n";
    m.emit();
    return fallback;
  }
  return v;
}

}  // namespace

std::int64_t option(Option o) noexcept {
  OptionEntry& e = g_options[static_cast<int>(o)];
  // Racing first reads compute the same value; a torn read is impossible for aligned int64.
  if (!__atomic_load_n(&e.read, __ATOMIC_ACQUIRE)) {
    __atomic_store_n(&e.value, parse(e.env, os::getenv(e.env), e.value), __ATOMIC_RELAXED);
    __atomic_store_n(&e.read, true, __ATOMIC_RELEASE);
  }
  return __atomic_load_n(&e.value, __ATOMIC_RELAXED);
}

}  // namespace fastpool
