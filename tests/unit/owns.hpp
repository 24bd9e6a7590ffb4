// How a front-door test asks fastpool whether it served a pointer: linked in, fp_owns is
// ours to call; preloaded, the test binary does not link fastpool and looks it up.
#pragma once

#include <dlfcn.h>

#include <cstddef>

#ifdef FASTPOOL_TEST_LINKED
extern "C" int fp_owns(const void*) noexcept;
#endif

inline bool fastpool_owns(const void* p) {
#ifdef FASTPOOL_TEST_LINKED
  return fp_owns(p) != 0;
#else
  using Fn = int (*)(const void*);
  static Fn fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "fp_owns"));
  return fn != nullptr && fn(p) != 0;
#endif
}
