#include "os/os.hpp"

#include <errno.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "fastpool/engine/platform.hpp"

extern char** environ;

namespace fastpool::os {

std::size_t page_size() noexcept {
  static std::size_t cached = 0;
  if (cached == 0) cached = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return cached;
}

namespace {
void* map_anonymous(std::size_t size, bool accessible) noexcept {
  void* p = mmap(nullptr, size, accessible ? PROT_READ | PROT_WRITE : PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}
bool placed(void* p, std::size_t alignment, std::size_t offset) noexcept {
  return ((reinterpret_cast<std::uintptr_t>(p) + offset) & (alignment - 1)) == 0;
}
}  // namespace

void* map_aligned(std::size_t size, std::size_t alignment, std::size_t offset,
                  bool accessible) noexcept {
  int saved = errno;  // a failed mmap must not leak its errno to the client's call
  offset &= alignment - 1;
  // Try the exact size first: the kernel often places it right already.
  void* p = map_anonymous(size, accessible);
  if (p == nullptr || placed(p, alignment, offset)) {
    errno = saved;
    return p;
  }
  munmap(p, size);
  // Over-map by the alignment and trim both ends.
  std::size_t over = size + alignment;
  if (over < size || (p = map_anonymous(over, accessible)) == nullptr) {
    errno = saved;
    return nullptr;
  }
  auto base = reinterpret_cast<std::uintptr_t>(p);
  std::uintptr_t start = ((base + offset + alignment - 1) & ~(alignment - 1)) - offset;
  if (start < base) start += alignment;
  if (start > base) munmap(p, start - base);
  std::uintptr_t end = base + over, used_end = start + size;
  if (end > used_end) munmap(reinterpret_cast<void*>(used_end), end - used_end);
  errno = saved;
  return reinterpret_cast<void*>(start);
}

void unmap(void* p, std::size_t size) noexcept {
  int saved = errno;
  munmap(p, size);
  errno = saved;
}

bool protect(void* p, std::size_t size, bool accessible) noexcept {
  int saved = errno;
  bool ok = mprotect(p, size, accessible ? PROT_READ | PROT_WRITE : PROT_NONE) == 0;
  errno = saved;
  return ok;
}

void* reserve_inaccessible(std::size_t size) noexcept {
  int saved = errno;
  void* p = mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  errno = saved;
  return p == MAP_FAILED ? nullptr : p;
}

bool remap_in_place(void* p, std::size_t old_size, std::size_t new_size) noexcept {
  int saved = errno;
  bool ok = mremap(p, old_size, new_size, 0) != MAP_FAILED;
  errno = saved;
  return ok;
}

bool remap_to(void* p, std::size_t old_size, std::size_t new_size, void* to) noexcept {
  int saved = errno;
  bool ok = mremap(p, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, to) != MAP_FAILED;
  errno = saved;
  return ok;
}

void purge(void* p, std::size_t size) noexcept {
  int saved = errno;
  madvise(p, size, MADV_DONTNEED);
  errno = saved;
}

std::uint64_t random_u64() noexcept {
  std::uint64_t v = 0;
  if (getrandom(&v, sizeof v, GRND_NONBLOCK) != sizeof v) {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    v = static_cast<std::uint64_t>(ts.tv_nsec) * 0x9E3779B97F4A7C15ull ^
        reinterpret_cast<std::uintptr_t>(&v);
  }
  return v;
}

void write_stderr(const char* s) noexcept {
  std::size_t n = std::strlen(s);
  while (n > 0) {
    ssize_t w = write(2, s, n);
    if (w <= 0) {
      if (w < 0 && errno == EINTR) continue;
      return;
    }
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

Message& Message::operator<<(const char* s) noexcept {
  while (*s != '\0' && len_ + 1 < sizeof buf_) buf_[len_++] = *s++;
  return *this;
}

Message& Message::operator<<(std::uint64_t v) noexcept {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0 && len_ + 1 < sizeof buf_) buf_[len_++] = tmp[--n];
  return *this;
}

Message& Message::operator<<(const void* p) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  auto v = reinterpret_cast<std::uintptr_t>(p);
  *this << "0x";
  bool started = false;
  for (int shift = 60; shift >= 0; shift -= 4) {
    unsigned d = (v >> shift) & 0xf;
    if (d == 0 && !started && shift != 0) continue;
    started = true;
    if (len_ + 1 < sizeof buf_) buf_[len_++] = kHex[d];
  }
  return *this;
}

const char* Message::str() noexcept {
  buf_[len_] = '\0';
  return buf_;
}

const char* getenv(const char* name) noexcept {
  if (environ == nullptr) return nullptr;
  std::size_t n = std::strlen(name);
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, name, n) == 0 && (*e)[n] == '=') return *e + n + 1;
  return nullptr;
}

}  // namespace fastpool::os

namespace fastpool::engine {

void fatal(const char* what, const void* address) noexcept {
  os::Message m;
  m << "fastpool: " << what;
  if (address != nullptr) m << " (address " << address << ")";
  m << "\n";
  m.emit();
  std::abort();
}

}  // namespace fastpool::engine
