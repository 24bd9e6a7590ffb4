// Statistics of the whole allocator (fp_stats in fastpool.h), for the C API, glibc's
// introspection calls (override/malloc.cpp) and the report.
#pragma once

#include <cstdio>

#include "fastpool/fastpool.h"

namespace fastpool {

// A snapshot: exact for the calling thread, exited threads and idle ones (other threads'
// current pages are observed, not asked), approximate while other threads allocate.
void read_stats(fp_stats& s) noexcept;
// The report on stderr: global figures, size classes, typed pools.
void print_stats() noexcept;

// --- introspection.cpp: glibc's calls
// mallinfo's fields that have a meaning here (the rest are 0).
struct MallInfo {
  std::size_t arena, ordblks, hblks, hblkhd, uordblks, fordblks, keepcost;
};
MallInfo mallinfo_figures() noexcept;
int set_malloc_option(int param, int value) noexcept;   // mallopt
int write_malloc_info(int options, FILE* fp) noexcept;  // malloc_info

}  // namespace fastpool
