// The hardened layer (FASTPOOL_SECURE builds): every block framed by canaries, every
// release checked against how the block was allocated, freed blocks filled, held back
// in a per-thread quarantine and checked again when they are handed out.
//
// A block of the core, b = its start, end = b + usable_size(b), p = what the user gets:
//   [b, p-16)        padding (aligned requests: p = b + alignment)
//   [p-16, p)        header: h0 = size | shift << 48 | kind << 56   (p = b + 2^shift)
//                            h1 = canary(p, h0): an underflow or a pointer that is not
//                            a block's start breaks it
//   [p, p+size)      the user's bytes
//   [p+size, ...)    tail canary, up to kTailBytes of tail_byte (every request gets one
//                    byte more than it asked for, so there is always one)
// Released blocks: h1 = canary ^ freed, so a second release is reported as a double free;
// small ones are then filled and marked (secure/freed.hpp) and wait in the thread's
// quarantine (secure/quarantine.hpp).
// malloc(0) returns a distinct address in a reserved region that faults on any access.
#ifdef FASTPOOL_SECURE

#include <errno.h>

#include <atomic>
#include <bit>
#include <cstring>

#include "api/front.hpp"
#include "os/os.hpp"
#include "secure/freed.hpp"
#include "secure/keys.hpp"
#include "secure/quarantine.hpp"

namespace fastpool::secure {
namespace {

constexpr std::size_t kTailBytes = 64;         // tail canary bytes written and checked at most
constexpr std::size_t kZeroRegion = 64 << 20;  // malloc(0) addresses, reused cyclically

struct Header {
  std::uint64_t h0, h1;
};
Header* header_of(void* p) noexcept {
  return reinterpret_cast<Header*>(static_cast<char*>(p) - kHeader);
}
std::size_t size_of(std::uint64_t h0) noexcept {
  return static_cast<std::size_t>(h0 & ((std::uint64_t{1} << 48) - 1));
}
std::size_t offset_of(std::uint64_t h0) noexcept {
  return std::size_t{1} << ((h0 >> 48) & 63);
}
AllocKind kind_of(std::uint64_t h0) noexcept {
  return static_cast<AllocKind>(h0 >> 56);
}

// --- malloc(0): addresses that fault
std::atomic<char*> g_zero_base{nullptr};
std::atomic<std::size_t> g_zero_next{0};

void* zero_block() noexcept {
  char* base = g_zero_base.load(std::memory_order_acquire);
  if (base == nullptr) {
    auto* fresh = static_cast<char*>(os::reserve_inaccessible(kZeroRegion));
    if (fresh == nullptr) return nullptr;
    if (!g_zero_base.compare_exchange_strong(base, fresh))
      os::unmap(fresh, kZeroRegion);
    else
      base = fresh;
  }
  return base + g_zero_next.fetch_add(16, std::memory_order_relaxed) % kZeroRegion;
}
bool is_zero_block(const void* p) noexcept {
  auto* base = g_zero_base.load(std::memory_order_acquire);
  auto* c = static_cast<const char*>(p);
  return base != nullptr && c >= base && c < base + kZeroRegion;
}

// Sizes asked for, of live blocks (fp_stats::bytes_requested). One shared counter: the
// hardened build pays a locked add per malloc and free for it.
std::atomic<std::size_t> g_requested{0};

// --- framing
// Writes the header and the tail canary of the core's block [b, end) for `size` bytes at
// b + offset; returns the user pointer.
char* write_frame(char* b, char* end, std::size_t size, std::size_t offset,
                  AllocKind kind) noexcept {
  char* p = b + offset;
  std::uint64_t h0 = size | std::uint64_t{static_cast<unsigned>(std::countr_zero(offset))} << 48 |
                     std::uint64_t{static_cast<unsigned>(kind)} << 56;
  *header_of(p) = {h0, canary(p, h0)};
  g_requested.fetch_add(size, std::memory_order_relaxed);
  std::size_t tail = static_cast<std::size_t>(end - (p + size));
  __builtin_memset(p + size, keys().tail_byte, tail < kTailBytes ? tail : kTailBytes);
  return p;
}

// A block fresh from the core.
void* frame(char* b, std::size_t size, std::size_t offset, AllocKind kind) noexcept {
  const Page* pg = page_map::find(b);
  char* end = block_end(pg, b);
  if (pg->kind == PageKind::small) check_reused(b, end, pg);
  return write_frame(b, end, size, offset, kind);
}

// The block behind a user pointer, checked: fastpool's, header intact, not released,
// tail canary intact. Aborts with what it found otherwise.
struct Block {
  Page* pg;
  char* b;
  char* end;
  std::size_t size;
  AllocKind kind;
};
Block checked_block(void* p, bool resizing) noexcept {
  const char* fn = resizing ? "realloc(): " : "free(): ";
  os::Message m;
  auto fail = [&](const char* what, const void* at) {
    m << fn << what;
    report(m.str(), at);
  };
  Page* at = page_map::find(p);
  if (at == &g_empty_page) fail("pointer was not allocated by fastpool", p);
  if (at->kind == PageKind::unused) fail("double free or pointer to freed memory", p);
  if ((reinterpret_cast<std::uintptr_t>(p) & 15) != 0)
    fail("pointer is not the start of a block", p);
  Header h = *header_of(p);
  if (h.h1 != canary(p, h.h0)) {
    // Released here (header marked), or given back to the core since (its free tag).
    Page* pg = page_map::find(header_of(p));
    if (h.h1 == (canary(p, h.h0) ^ keys().freed) ||
        (pg->kind == PageKind::small && pg->pool.free_list().is_tagged(header_of(p))))
      fail("double free", p);
    fail("block header corrupted (buffer underflow) or not the start of a block", p);
  }
  char* b = static_cast<char*>(p) - offset_of(h.h0);
  Page* pg = validated_page_of(b, resizing);
  std::size_t size = size_of(h.h0);
  char* end = block_end(pg, b);
  std::size_t tail = static_cast<std::size_t>(end - (static_cast<char*>(p) + size));
  auto* c = static_cast<unsigned char*>(p) + size;
  if (const unsigned char* bad =
          first_other(c, tail < kTailBytes ? tail : kTailBytes, keys().tail_byte))
    fail("buffer overflow detected past the end of the block", bad);
  return {pg, b, end, size, kind_of(h.h0)};
}

const char* mismatch(AllocKind allocated, AllocKind released) noexcept {
  if (allocated == AllocKind::new_array && released == AllocKind::new_scalar)
    return "operator delete(): block allocated by new[] (use delete[])";
  if (allocated == AllocKind::new_scalar && released == AllocKind::new_array)
    return "operator delete[](): block allocated by new (use delete)";
  return nullptr;  // malloc'd and new'd blocks may be mixed, as glibc allows
}

}  // namespace

void* allocate(std::size_t size, std::size_t alignment, AllocKind kind) noexcept {
  if (size == 0 && alignment <= 16) {
    if (void* z = zero_block()) return z;
  }
  std::size_t offset = alignment <= kHeader ? kHeader : alignment;
  std::size_t total;
  if (size >= (std::size_t{1} << 48) || __builtin_add_overflow(size, offset + 1, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* b = alignment <= kHeader ? malloc_fast(total) : aligned_alloc_checked(alignment, total);
  if (b == nullptr) return nullptr;
  return frame(static_cast<char*>(b), size, offset, kind);
}

void release(void* p, AllocKind kind, std::size_t sized) noexcept {
  if (p == nullptr || is_zero_block(p)) return;
  Block blk = checked_block(p, false);
  if (const char* what = mismatch(blk.kind, kind)) report(what, p);
  if (sized != 0 && sized != blk.size)
    report("operator delete(): sized delete with a size the block was not allocated with", p);
  Header* h = header_of(p);
  h->h1 ^= keys().freed;
  g_requested.fetch_sub(blk.size, std::memory_order_relaxed);
  if (blk.pg->kind != PageKind::small) return free_fast(blk.b);
  fill_freed(blk.b, blk.end, blk.pg);
  quarantine(blk.b, static_cast<std::size_t>(blk.end - blk.b));
}

// Small blocks are checked (check_reused) before they are zeroed. Bigger ones take the
// core's calloc, which knows which read as zero already (fresh mappings, purged slices):
// only the frame is written to those, so a big calloc stays unresident.
void* calloc(std::size_t n, std::size_t size) noexcept {
  std::size_t total;
  if (__builtin_mul_overflow(n, size, &total) || total >= (std::size_t{1} << 48)) {
    errno = ENOMEM;
    return nullptr;
  }
  if (total + kHeader + 1 <= kMaxClassSize) {
    void* p = allocate(total, 0, AllocKind::malloc);
    if (p != nullptr) __builtin_memset(p, 0, total);
    return p;
  }
  void* b = calloc_impl(1, total + kHeader + 1);
  if (b == nullptr) return nullptr;
  return frame(static_cast<char*>(b), total, kHeader, AllocKind::malloc);
}

void* realloc(void* p, std::size_t size) noexcept {
  if (p == nullptr || is_zero_block(p)) return allocate(size, 0, AllocKind::malloc);
  if (size == 0) {  // glibc: frees and returns NULL
    release(p, AllocKind::malloc, 0);
    return nullptr;
  }
  Block blk = checked_block(p, true);
  std::size_t total;
  if (size >= (std::size_t{1} << 48) || __builtin_add_overflow(size, kHeader + 1, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  // A plain block resizes like the core's (in place, or remapped): framed again after.
  if (static_cast<char*>(p) == blk.b + kHeader) {
    if (void* b = resize_block(blk.b, blk.pg, total)) {
      auto* nb = static_cast<char*>(b);
      g_requested.fetch_sub(blk.size, std::memory_order_relaxed);
      return write_frame(nb, nb + fastpool::usable_size(nb), size, kHeader, blk.kind);
    }
  }
  void* q = allocate(size, 0, blk.kind);
  if (q == nullptr) return nullptr;
  __builtin_memcpy(q, p, size < blk.size ? size : blk.size);
  release(p, blk.kind, 0);
  return q;
}

std::size_t requested_bytes() noexcept {
  return g_requested.load(std::memory_order_relaxed);
}

// The user pointer is the core's block start plus 2^shift (header of write_frame): the
// one offset whose header is intact and names that shift.
void* block_of(const void* p) noexcept {
  BlockSpan s = block_span(p);
  if (s.start == nullptr) return nullptr;
  for (std::size_t offset = kHeader; s.start + offset < s.end; offset *= 2) {
    char* q = s.start + offset;
    Header h = *header_of(q);
    if (h.h1 == canary(q, h.h0) && offset_of(h.h0) == offset) return q;
  }
  return nullptr;
}

std::size_t usable_size(const void* p) noexcept {
  if (p == nullptr || is_zero_block(p) || !page_map::owns(p)) return 0;
  return size_of(header_of(const_cast<void*>(p))->h0);
}

}  // namespace fastpool::secure

#endif  // FASTPOOL_SECURE
