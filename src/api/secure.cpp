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
// Released small blocks (kind small in the core):
//   h1 = canary ^ freed: a second release is reported as a double free;
//   [b+16, end-8) = fill_byte and [end-8, end) = marker(b, end), checked when the block
//   is handed out again: a write after free is reported then. (The core keeps its
//   free-list link and tag in [b, b+16) meanwhile.)
// Then the block waits in the thread's quarantine (a random one of kQuarantineSlots is
// given back to the core per release), so it is not handed out by the next mallocs.
// malloc(0) returns a distinct address in a reserved region that faults on any access.
#ifdef FASTPOOL_SECURE

#include <errno.h>
#include <sys/auxv.h>

#include <atomic>
#include <bit>
#include <cstring>

#include "api/front.hpp"
#include "os/os.hpp"

namespace fastpool::secure {
namespace {

constexpr std::size_t kHeader = 16;
constexpr std::size_t kTailBytes = 64;     // tail canary bytes written and checked at most
constexpr std::size_t kReuseWindow = 128;  // bytes at each end checked again at reuse
constexpr int kQuarantineSlots = 64;
constexpr std::size_t kQuarantineBytes = 4 << 20;  // per thread
constexpr std::size_t kZeroRegion = 64 << 20;      // malloc(0) addresses, reused cyclically

[[noreturn]] FP_COLD void report(const char* what, const void* p) noexcept {
  engine::fatal(what, p);
}

std::uint64_t mix(std::uint64_t x) noexcept {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Per-process secrets from the kernel's AT_RANDOM bytes: the same on every thread and at
// any time (no initialisation order), unknown to the program.
struct Keys {
  std::uint64_t canary, freed, marker, link;
  unsigned char tail_byte, fill_byte;
};
Keys derive_keys() noexcept {
  std::uint64_t seed[2] = {0x243F6A8885A308D3ull, 0x13198A2E03707344ull};
  if (auto* r = reinterpret_cast<const void*>(getauxval(AT_RANDOM))) __builtin_memcpy(seed, r, 16);
  Keys k;
  k.canary = mix(seed[0]);
  k.freed = mix(seed[1]) | 1;
  k.marker = mix(seed[0] ^ seed[1]);
  k.link = mix(seed[1] + 0x9E3779B97F4A7C15ull);
  // Random bytes, but never text, zero or 0xFF (what stray writes mostly are): a write of
  // such a byte over a canary or a freed block is always seen.
  auto odd_byte = [](std::uint64_t r) {
    return static_cast<unsigned char>(0x80 | (r % 0x7F));  // 0x80..0xFE
  };
  k.tail_byte = odd_byte(k.marker >> 8);
  k.fill_byte = odd_byte(k.marker >> 16);
  if (k.fill_byte == k.tail_byte) k.fill_byte ^= 0x01;
  return k;
}
Keys g_keys;
std::atomic<bool> g_keys_ready{false};
// Racing first calls all store the same values.
const Keys& keys() noexcept {
  if (FP_UNLIKELY(!g_keys_ready.load(std::memory_order_acquire))) {
    g_keys = derive_keys();
    g_keys_ready.store(true, std::memory_order_release);
  }
  return g_keys;
}

// Its top byte (the one a 1-byte underflow hits) is never text, zero or 0xFF either.
std::uint64_t canary(const void* p, std::uint64_t h0) noexcept {
  std::uint64_t c =
      mix(keys().canary ^ reinterpret_cast<std::uintptr_t>(p) ^ (h0 * 0x9E3779B97F4A7C15ull));
  return (c & ~(std::uint64_t{0xFF} << 56)) | std::uint64_t{0x80 | ((c >> 56) % 0x7F)} << 56;
}
// Bound to the block and to its page's generation: a marker a block of an earlier page
// at the same address left behind never matches.
std::uint64_t marker(const char* b, const char* end, const Page* pg) noexcept {
  std::uint64_t generation = pg->generation;
  return mix(keys().marker ^ reinterpret_cast<std::uintptr_t>(b) ^
             (reinterpret_cast<std::uintptr_t>(end) << 17) ^ generation * 0x9E3779B97F4A7C15ull);
}

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

// --- freed blocks: filled, marked, checked when handed out again
// The end of the core's block that starts at b, on page pg.
char* block_end(const Page* pg, char* b) noexcept {
  if (pg->kind == PageKind::small) return b + pg->pool.block_size();
  return b + fastpool::usable_size(b);
}

// The first of n bytes from c that is not `byte`, or null. 32 bytes a step (two SSE2
// registers with GCC's vector types), then words, then bytes.
const unsigned char* first_other(const unsigned char* c, std::size_t n,
                                 unsigned char byte) noexcept {
  using V = std::uint64_t __attribute__((vector_size(16)));
  std::uint64_t pattern = byte * 0x0101010101010101ull, diff = 0;
  V vp = {pattern, pattern}, v0 = {0, 0}, v1 = {0, 0};
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    V a, b;
    __builtin_memcpy(&a, c + i, 16);
    __builtin_memcpy(&b, c + i + 16, 16);
    v0 |= a ^ vp;
    v1 |= b ^ vp;
  }
  v0 |= v1;
  diff = v0[0] | v0[1];
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    __builtin_memcpy(&w, c + i, 8);
    diff |= w ^ pattern;
  }
  for (; i < n; ++i) diff |= c[i] ^ byte;
  if (FP_LIKELY(diff == 0)) return nullptr;
  while (*c == byte) ++c;
  return c;
}

void fill_freed(char* b, char* end, const Page* pg) noexcept {
  __builtin_memset(b + kHeader, keys().fill_byte,
                   static_cast<std::size_t>(end - 8 - (b + kHeader)));
  std::uint64_t m = marker(b, end, pg);
  __builtin_memcpy(end - 8, &m, 8);
}

// A block released here: nothing may have written to it since.
void verify_fill(const char* b, const char* end) noexcept {
  auto* start = reinterpret_cast<const unsigned char*>(b + kHeader);
  if (const unsigned char* c =
          first_other(start, static_cast<std::size_t>(end - 8 - (b + kHeader)), keys().fill_byte))
    report("write after free detected", c);
}
bool has_marker(const char* b, const char* end, const Page* pg) noexcept {
  std::uint64_t m;
  __builtin_memcpy(&m, end - 8, 8);
  return m == marker(b, end, pg);
}

// A block the core hands out: if it was released here (and its page lived on), its first
// and last kReuseWindow bytes are checked again (the whole block was when it left the
// quarantine).
void check_reused(char* b, char* end, const Page* pg) noexcept {
  if (!has_marker(b, end, pg)) return;  // never released here (fresh, or freed by the core)
  if (end - b <= static_cast<std::ptrdiff_t>(2 * kReuseWindow + kHeader + 8)) {
    verify_fill(b, end);
  } else {
    verify_fill(b, b + kHeader + kReuseWindow + 8);
    verify_fill(end - 8 - kReuseWindow - kHeader, end);
  }
  __builtin_memset(end - 8, 0, 8);
}

// A block leaving the quarantine for the core: checked in full (its page may not live
// until the block is handed out again).
void check_evicted(char* b) noexcept {
  const Page* pg = page_map::find(b);
  char* end = block_end(pg, b);
  if (!has_marker(b, end, pg)) report("write after free detected", end - 8);
  verify_fill(b, end);
}

// --- the quarantine
struct Quarantine {
  void* block[kQuarantineSlots];
  std::uint32_t bytes[kQuarantineSlots];
  int count;
  std::size_t total;
  std::uint64_t rng;
};
__thread Quarantine tls_quarantine __attribute__((tls_model("initial-exec")));

int random_slot(Quarantine& q) noexcept {
  if (q.rng == 0) q.rng = mix(keys().marker ^ reinterpret_cast<std::uintptr_t>(&q)) | 1;
  q.rng ^= q.rng << 13;  // xorshift64
  q.rng ^= q.rng >> 7;
  q.rng ^= q.rng << 17;
  return static_cast<int>(q.rng % static_cast<std::uint64_t>(q.count));
}

void quarantine(char* b, std::size_t bytes) noexcept {
  Quarantine& q = tls_quarantine;
  // Past the thread's exit hook nothing would flush it: give the block back now.
  if (tls_remote.exited || bytes > kQuarantineBytes / 4) return free_fast(b);
  while (q.count == kQuarantineSlots || (q.count > 0 && q.total + bytes > kQuarantineBytes)) {
    int i = random_slot(q);
    void* out = q.block[i];
    q.total -= q.bytes[i];
    --q.count;
    q.block[i] = q.block[q.count];
    q.bytes[i] = q.bytes[q.count];
    check_evicted(static_cast<char*>(out));
    free_fast(out);
  }
  q.block[q.count] = b;
  q.bytes[q.count] = static_cast<std::uint32_t>(bytes);
  ++q.count;
  q.total += bytes;
}

// --- framing
void* frame(char* b, std::size_t size, std::size_t offset, AllocKind kind) noexcept {
  const Page* pg = page_map::find(b);
  char* end = block_end(pg, b);
  if (pg->kind == PageKind::small) check_reused(b, end, pg);
  char* p = b + offset;
  std::uint64_t h0 = size | std::uint64_t{static_cast<unsigned>(std::countr_zero(offset))} << 48 |
                     std::uint64_t{static_cast<unsigned>(kind)} << 56;
  *header_of(p) = {h0, canary(p, h0)};
  std::size_t tail = static_cast<std::size_t>(end - (p + size));
  __builtin_memset(p + size, keys().tail_byte, tail < kTailBytes ? tail : kTailBytes);
  return p;
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
  if (page_map::find(p) == &g_empty_page) fail("pointer was not allocated by fastpool", p);
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
  if (blk.pg->kind != PageKind::small) return free_fast(blk.b);
  fill_freed(blk.b, blk.end, blk.pg);
  quarantine(blk.b, static_cast<std::size_t>(blk.end - blk.b));
}

void* calloc(std::size_t n, std::size_t size) noexcept {
  std::size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* p = allocate(total, 0, AllocKind::malloc);
  if (p != nullptr && total != 0) __builtin_memset(p, 0, total);
  return p;
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
      char* end = nb + fastpool::usable_size(nb);
      char* q = nb + kHeader;
      std::uint64_t h0 =
          size | std::uint64_t{4} << 48 | std::uint64_t{static_cast<unsigned>(blk.kind)} << 56;
      *header_of(q) = {h0, canary(q, h0)};
      std::size_t tail = static_cast<std::size_t>(end - (q + size));
      __builtin_memset(q + size, keys().tail_byte, tail < kTailBytes ? tail : kTailBytes);
      return q;
    }
  }
  void* q = allocate(size, 0, blk.kind);
  if (q == nullptr) return nullptr;
  __builtin_memcpy(q, p, size < blk.size ? size : blk.size);
  release(p, blk.kind, 0);
  return q;
}

std::size_t usable_size(const void* p) noexcept {
  if (p == nullptr || is_zero_block(p) || !page_map::owns(p)) return 0;
  return size_of(header_of(const_cast<void*>(p))->h0);
}

void flush_quarantine() noexcept {
  Quarantine& q = tls_quarantine;
  while (q.count > 0) {
    auto* b = static_cast<char*>(q.block[--q.count]);
    check_evicted(b);
    free_fast(b);
  }
  q.total = 0;
}

}  // namespace fastpool::secure

namespace fastpool::engine {
std::uintptr_t link_key() noexcept {
  return secure::keys().link;
}
}  // namespace fastpool::engine

#endif  // FASTPOOL_SECURE
