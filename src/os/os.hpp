// The OS layer: the only code that talks to the kernel about memory, time, randomness
// and output. Nothing here allocates through the allocator.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fastpool::os {

std::size_t page_size() noexcept;

// Maps `size` bytes (a multiple of the page size), readable and writable, backed lazily
// and charged to the commit limit like any private mapping (never MAP_NORESERVE: the
// kernel's overcommit policy decides what can be backed). The result p satisfies
// (p + offset) % alignment == 0, alignment a power of two >= page size. Null when the
// OS refuses. errno is left as it was. With `accessible` false the mapping starts
// PROT_NONE: charged only where protect() later opens it.
void* map_aligned(std::size_t size, std::size_t alignment, std::size_t offset = 0,
                  bool accessible = true) noexcept;
void unmap(void* p, std::size_t size) noexcept;
// Makes [p, p+size) inaccessible (PROT_NONE) or readable and writable again. False when
// the kernel refuses (out of mappings, or out of commit for a range opened the first time).
bool protect(void* p, std::size_t size, bool accessible) noexcept;
// Reserves `size` bytes of address space that faults on any access (PROT_NONE, charged
// to nothing). Null when the OS refuses.
void* reserve_inaccessible(std::size_t size) noexcept;
// Resizes the mapping [p, p+old_size) to new_size without moving it (growing needs the
// address space after it free). False when the kernel cannot.
bool remap_in_place(void* p, std::size_t old_size, std::size_t new_size) noexcept;
// Moves the pages of [p, p+old_size) to `to` (a mapping of new_size bytes made by the
// caller, which this replaces), growing it to new_size: no copy, the page tables move.
bool remap_to(void* p, std::size_t old_size, std::size_t new_size, void* to) noexcept;
// Gives the physical pages of [p, p+size) back (MADV_DONTNEED on a private anonymous
// mapping): the range stays mapped and reads as zero afterwards, which calloc relies on.
// (A private file mapping reads as the file again: what it held since is lost.)
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
