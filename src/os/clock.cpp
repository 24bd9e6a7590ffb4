// The monotonic clock, read through the vDSO's clock_gettime, found once from the
// auxiliary vector. libc's clock_gettime calls the same function, but its wrapper lies in
// a part of libc's text that a program which never reads the clock does not otherwise
// touch, and the first call there maps 64 KiB of it (the kernel's fault-around): about 4%
// of a small program's resident size, for a clock the heap reads now and then.
#include <elf.h>
#include <sys/auxv.h>
#include <time.h>

#include <atomic>
#include <cstdint>

#include "os/os.hpp"

namespace fastpool::os {
namespace {

using ClockGettime = int (*)(clockid_t, timespec*);

bool same(const char* a, const char* b) noexcept {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

// __vdso_clock_gettime from the vDSO's dynamic symbols (DT_HASH gives their count), or
// libc's clock_gettime where there is no vDSO or no such symbol.
ClockGettime find_clock() noexcept {
  auto base = static_cast<std::uintptr_t>(getauxval(AT_SYSINFO_EHDR));
  if (base == 0) return clock_gettime;
  const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(base);
  const auto* ph = reinterpret_cast<const Elf64_Phdr*>(base + eh->e_phoff);
  std::uintptr_t bias = 0;
  bool loaded = false;
  const Elf64_Dyn* dyn = nullptr;
  for (int i = 0; i < eh->e_phnum; ++i) {
    if (ph[i].p_type == PT_LOAD && !loaded) {
      bias = base + ph[i].p_offset - ph[i].p_vaddr;
      loaded = true;
    } else if (ph[i].p_type == PT_DYNAMIC) {
      dyn = reinterpret_cast<const Elf64_Dyn*>(base + ph[i].p_offset);
    }
  }
  if (!loaded || dyn == nullptr) return clock_gettime;
  const Elf64_Sym* syms = nullptr;
  const char* names = nullptr;
  const Elf64_Word* hash = nullptr;
  for (const Elf64_Dyn* d = dyn; d->d_tag != DT_NULL; ++d) {
    std::uintptr_t at = bias + d->d_un.d_ptr;
    if (d->d_tag == DT_SYMTAB) syms = reinterpret_cast<const Elf64_Sym*>(at);
    if (d->d_tag == DT_STRTAB) names = reinterpret_cast<const char*>(at);
    if (d->d_tag == DT_HASH) hash = reinterpret_cast<const Elf64_Word*>(at);
  }
  if (syms == nullptr || names == nullptr || hash == nullptr) return clock_gettime;
  for (Elf64_Word i = 0; i < hash[1]; ++i) {  // hash[1]: the number of symbols
    const Elf64_Sym& s = syms[i];
    if (ELF64_ST_TYPE(s.st_info) == STT_FUNC && s.st_shndx != SHN_UNDEF &&
        same(names + s.st_name, "__vdso_clock_gettime"))
      return reinterpret_cast<ClockGettime>(bias + s.st_value);
  }
  return clock_gettime;
}

// Null until the first read; threads that race to it find the same function.
std::atomic<ClockGettime> g_clock{nullptr};

}  // namespace

std::uint64_t now_ms() noexcept {
  ClockGettime f = g_clock.load(std::memory_order_relaxed);
  if (f == nullptr) {
    f = find_clock();
    g_clock.store(f, std::memory_order_relaxed);
  }
  timespec ts{};
  f(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000 +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000000;
}

}  // namespace fastpool::os
