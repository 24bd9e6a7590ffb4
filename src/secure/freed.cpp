// Released blocks: what fill_freed and check_freed (secure/freed.hpp) call out of line.
#ifdef FASTPOOL_SECURE

#include "secure/freed.hpp"

#include "api/alloc.hpp"
#include "os/os.hpp"

namespace fastpool::secure {

char* big_block_end(char* b) noexcept {
  return block_span(b).end;
}

void purge_between(char* from, char* to) noexcept {
  auto page = static_cast<std::uintptr_t>(os::page_size());
  auto lo = (reinterpret_cast<std::uintptr_t>(from) + page - 1) & ~(page - 1);
  auto hi = reinterpret_cast<std::uintptr_t>(to) & ~(page - 1);
  if (lo < hi) os::purge(reinterpret_cast<char*>(lo), hi - lo);
}

void report_written(char* p, char* filled_end, unsigned char fill) noexcept {
  freed::Units u = freed::units(p, filled_end);
  for (char* at : {u.a, u.b, u.c, u.d, u.e})
    for (int j = 0; j < 16; ++j)
      if (static_cast<unsigned char>(at[j]) != fill) report("write after free detected", at + j);
  report("write after free detected", u.a);
}

}  // namespace fastpool::secure

#endif  // FASTPOOL_SECURE
