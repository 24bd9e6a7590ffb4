// The OS layer: the only code that talks to the kernel about memory, time, randomness
// and output. Nothing here allocates through the allocator.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fastpool::os {

std::size_t page_size() noexcept;

// Maps `size` bytes aligned to `alignment` (a power of two >= page size), readable and
// writable, backed lazily. Returns null when the OS refuses.
void* map_aligned(std::size_t size, std::size_t alignment) noexcept;
void unmap(void* p, std::size_t size) noexcept;
// Gives the physical pages of [p, p+size) back; the range stays mapped and reads as zero
// (or as the old contents until the kernel reclaims them: callers must not assume zero).
void purge(void* p, std::size_t size) noexcept;

// Monotonic milliseconds (vDSO, no syscall in the common case).
std::uint64_t now_ms() noexcept;
std::uint64_t random_u64() noexcept;

// Writes to stderr with write(2); never allocates.
void write_stderr(const char* s) noexcept;
// A small formatter into a fixed buffer, for messages on paths that must not allocate.
class Message {
 public:
  Message& operator<<(const char* s) noexcept;
  Message& operator<<(std::uint64_t v) noexcept;
  Message& operator<<(const void* p) noexcept;
  const char* str() noexcept;
  void emit() noexcept { write_stderr(str()); }

 private:
  char buf_[512];
  std::size_t len_ = 0;
};

// getenv that does not allocate and works before libc is fully up.
const char* getenv(const char* name) noexcept;

}  // namespace fastpool::os
