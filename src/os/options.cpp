#include "os/options.hpp"

#include "os/os.hpp"

namespace fastpool {
namespace {

// One row per Option, in the enum's order.
constexpr OptionInfo kOptions[] = {
    {"FASTPOOL_PURGE_DELAY_MS", 1000, std::int64_t{1} << 40,
     "milliseconds freed memory stays resident before it goes back to the OS (madvise of "
     "free slices, munmap of cached huge mappings); 0: at once"},
    {"FASTPOOL_SEGMENT_CACHE", 8, 64,
     "empty 4 MiB segments kept mapped (purged) for reuse, process-wide (at most 64)"},
    {"FASTPOOL_SHOW_STATS", 0, 1,
     "1: print the statistics table (global heap and live typed pools) to stderr at exit"},
    {"FASTPOOL_VERBOSE", 0, 1, "1: print the options in force to stderr at start"},
};
static_assert(sizeof kOptions / sizeof kOptions[0] == kOptionCount);

struct OptionValue {
  std::int64_t value;
  bool read;
};
OptionValue g_values[kOptionCount];

// A setting, or the default with a word on stderr when it is malformed.
std::int64_t read_setting(Option o) noexcept {
  const OptionInfo& info = option_info(o);
  const char* s = os::getenv(info.env);
  std::int64_t v = info.default_value;
  if (s != nullptr && !parse_option(o, s, &v)) {
    os::Message m;
    m << "fastpool: ignoring " << info.env << "=" << s << " (not an integer from 0 to "
      << static_cast<std::uint64_t>(info.max_value) << ")\n";
    m.emit();
  }
  return v;
}

}  // namespace

const OptionInfo& option_info(Option o) noexcept {
  return kOptions[static_cast<int>(o)];
}

bool parse_option(Option o, const char* s, std::int64_t* out) noexcept {
  std::int64_t max = option_info(o).max_value, v = 0;
  const char* c = s;
  for (; *c >= '0' && *c <= '9'; ++c) {
    v = v * 10 + (*c - '0');
    if (v > max) return false;
  }
  if (c == s || *c != '\0') return false;
  *out = v;
  return true;
}

std::int64_t option(Option o) noexcept {
  OptionValue& e = g_values[static_cast<int>(o)];
  // Racing first reads compute the same value; a torn read is impossible for aligned int64.
  if (!__atomic_load_n(&e.read, __ATOMIC_ACQUIRE)) {
    __atomic_store_n(&e.value, read_setting(o), __ATOMIC_RELAXED);
    __atomic_store_n(&e.read, true, __ATOMIC_RELEASE);
  }
  return __atomic_load_n(&e.value, __ATOMIC_RELAXED);
}

void set_option(Option o, std::int64_t value) noexcept {
  option(o);  // read first, so that a later first read does not undo this
  __atomic_store_n(&g_values[static_cast<int>(o)].value, value, __ATOMIC_RELAXED);
}

}  // namespace fastpool
