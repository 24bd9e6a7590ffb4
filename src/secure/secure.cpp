// The hardened layer (FASTPOOL_SECURE builds): every block framed by canaries, every
// release checked against how the block was allocated, freed blocks filled where a use
// after free writes, held back in a per-thread quarantine and checked when they leave it.
//
// A block of the core, b = its start, end = b + usable_size(b), p = what the user gets:
//   [b, p-16)        padding (aligned requests: p = b + alignment)
//   [p-16, p)        header: h0 = size | shift << 48 | kind << 56   (p = b + 2^shift)
//                            h1 = canary(p, h0): an underflow or a pointer that is not
//                            a block's start breaks it
//   [p, p+size)      the user's bytes
//   [p+size, ...)    tail canary, kMinTail to kTailBytes of tail_byte (every request gets
//                    kMinTail bytes more than it asked for, so the canary is two word
//                    stores with no branch): an overflow that starts at the end, however
//                    long, hits its first byte
// Released blocks: h1 = canary ^ freed, so a second release is reported as a double free;
// small ones are then filled (secure/freed.hpp) and wait in the thread's quarantine
// (secure/quarantine.hpp), which checks the fill when it gives them back to the core.
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

// --- sizes asked for, of live blocks (fp_stats::bytes_requested)
// Counted in the calling thread's heap (HeapStats::requested, one writer: no locked
// instruction), so a block freed by another thread moves the count between heaps; the
// sum is right. A thread that never allocated (a consumer that only frees) has no heap:
// it counts here and adds to the shared total a MiB at a time and when it exits.
std::atomic<std::int64_t> g_heapless_requested{0};
__thread std::int64_t tls_heapless_requested __attribute__((tls_model("initial-exec")));
constexpr std::int64_t kHeaplessFlush = 1 << 20;

FP_COLD void flush_heapless() noexcept {
  g_heapless_requested.fetch_add(tls_heapless_requested, std::memory_order_relaxed);
  tls_heapless_requested = 0;
}
// Such a thread's exit must flush its count and its quarantine: the exit hook is armed
// here, as nothing else would arm it before the quarantine gives a block to the core.
// Past the hook, nothing flushes: counted at once. (Every free of such a thread comes here.)
FP_SLOW_PATH void count_heapless(std::int64_t delta) noexcept {
  if (tls_remote.exited)
    return (void)g_heapless_requested.fetch_add(delta, std::memory_order_relaxed);
  if (!tls_remote.exit_hook) heap::arm_exit_hook();
  std::int64_t t = tls_heapless_requested += delta;
  if (t >= kHeaplessFlush || t <= -kHeaplessFlush) flush_heapless();
}
FP_FAST_PATH void count_requested(std::int64_t delta) noexcept {
  Heap* h = tls_heap;
  if (FP_LIKELY(h != &g_empty_heap)) return bump(h->stats.requested, delta);
  count_heapless(delta);
}

// --- the tail canary: [c, c+n), n in [kMinTail, kTailBytes], as two overlapping words
static_assert(kMinTail == 8);
FP_FAST_PATH void set_tail(char* c, std::size_t n, std::uint64_t pattern) noexcept {
  __builtin_memcpy(c, &pattern, 8);
  __builtin_memcpy(c + n - 8, &pattern, 8);
}
FP_FAST_PATH bool tail_intact(const char* c, std::size_t n, std::uint64_t pattern) noexcept {
  std::uint64_t a, b;
  __builtin_memcpy(&a, c, 8);
  __builtin_memcpy(&b, c + n - 8, 8);
  return ((a ^ pattern) | (b ^ pattern)) == 0;
}
FP_FAST_PATH std::size_t tail_bytes(const char* p, std::size_t size, const char* end) noexcept {
  std::size_t tail = static_cast<std::size_t>(end - (p + size));
  return tail < kTailBytes ? tail : kTailBytes;
}

// --- framing
// Writes the header and the tail canary of the core's block [b, end) for `size` bytes at
// b + offset, with keys k; returns the user pointer. Counting the size is the caller's.
FP_FAST_PATH char* write_frame(const Keys& k, char* b, char* end, std::size_t size,
                               std::size_t offset, AllocKind kind) noexcept {
  char* p = b + offset;
  std::uint64_t h0 = size | std::uint64_t{static_cast<unsigned>(std::countr_zero(offset))} << 48 |
                     std::uint64_t{static_cast<unsigned>(kind)} << 56;
  *header_of(p) = {h0, canary(k, p, h0)};
  set_tail(p + size, tail_bytes(p, size, end), k.tail_word);
  return p;
}

// A block fresh from the core, framed and counted.
FP_FAST_PATH void* frame(char* b, std::size_t size, std::size_t offset, AllocKind kind) noexcept {
  char* p = write_frame(keys(), b, block_end(page_map::find(b), b), size, offset, kind);
  count_requested(static_cast<std::int64_t>(size));
  return p;
}

// The block behind a user pointer, checked: fastpool's, header intact, not released,
// tail canary intact. Aborts with what it found otherwise. The header's canary proves p
// is the start of a block this layer framed and has not released, so the core's own
// validation is left to the paths that need its page (realloc, big blocks).
struct Block {
  Page* pg;
  char* b;
  char* end;
  char* filled_end;  // past the tail canary
  std::size_t size;
  AllocKind kind;
};
[[noreturn]] FP_COLD void fail(bool resizing, const char* what, const void* at) noexcept {
  os::Message m;
  m << (resizing ? "realloc(): " : "free(): ") << what;
  report(m.str(), at);
}
[[noreturn]] FP_COLD void bad_block(void* p, bool resizing) noexcept {
  Page* at = page_map::find(p);
  if (at == &g_empty_page) fail(resizing, "pointer was not allocated by fastpool", p);
  if (at->kind == PageKind::unused) fail(resizing, "double free or pointer to freed memory", p);
  if ((reinterpret_cast<std::uintptr_t>(p) & 15) != 0)
    fail(resizing, "pointer is not the start of a block", p);
  // Released here (header marked), or given back to the core since (its free tag).
  const Keys& k = keys();
  Header h = *header_of(p);
  Page* pg = page_map::find(header_of(p));
  if (h.h1 == (canary(k, p, h.h0) ^ k.freed) ||
      (pg->kind == PageKind::small && pg->pool.free_list().is_tagged(header_of(p))))
    fail(resizing, "double free", p);
  fail(resizing, "block header corrupted (buffer underflow) or not the start of a block", p);
}
[[noreturn]] FP_COLD void overflowed(const char* tail, bool resizing) noexcept {
  while (static_cast<unsigned char>(*tail) == keys().tail_byte) ++tail;
  fail(resizing, "buffer overflow detected past the end of the block", tail);
}
// REQUIRES: pg == page_map::find(p); p is not null and not a malloc(0) address.
FP_FAST_PATH Block checked_block(void* p, Page* pg, bool resizing) noexcept {
  // The sentinel and unused records are not small: their misuse is sorted out in bad_block.
  if (FP_UNLIKELY(pg->kind != PageKind::small) &&
      (pg == &g_empty_page || pg->kind == PageKind::unused))
    bad_block(p, resizing);
  if (FP_UNLIKELY((reinterpret_cast<std::uintptr_t>(p) & 15) != 0)) bad_block(p, resizing);
  // Until the header's canary matches, p may be any pointer and the keys underived: a
  // mismatch takes bad_block, which derives them before it looks again.
  const Keys& k = derived_keys();
  Header h = *header_of(p);
  if (FP_UNLIKELY(h.h1 != canary(k, p, h.h0))) bad_block(p, resizing);
  char* b = static_cast<char*>(p) - offset_of(h.h0);
  if (resizing || pg->kind != PageKind::small) pg = validated_page_of(b, resizing);
  std::size_t size = size_of(h.h0);
  char* end = block_end(pg, b);
  char* tail = static_cast<char*>(p) + size;
  std::size_t n = tail_bytes(static_cast<char*>(p), size, end);
  if (FP_UNLIKELY(!tail_intact(tail, n, k.tail_word))) overflowed(tail, resizing);
  return {pg, b, end, tail + n, size, kind_of(h.h0)};
}

// malloc'd and new'd blocks may be mixed, as glibc allows: only new with delete[] and
// new[] with delete are reported (new_scalar + new_array is the one sum of 3).
static_assert(static_cast<int>(AllocKind::new_scalar) == 1 &&
              static_cast<int>(AllocKind::new_array) == 2);
FP_FAST_PATH bool mismatched(AllocKind allocated, AllocKind released) noexcept {
  return static_cast<int>(allocated) + static_cast<int>(released) == 3;
}
[[noreturn]] FP_COLD void report_mismatch(AllocKind released, void* p) noexcept {
  report(released == AllocKind::new_scalar
             ? "operator delete(): block allocated by new[] (use delete[])"
             : "operator delete[](): block allocated by new (use delete)",
         p);
}

}  // namespace

namespace {
// `growable`: past kMaxSmall a large span or a huge block, which later grow in place (what
// realloc moves a growing block to, as the core's realloc does).
void* allocate_block(std::size_t size, std::size_t alignment, AllocKind kind,
                     bool growable) noexcept {
  if (size == 0 && alignment <= 16) {
    if (void* z = zero_block()) return z;
  }
  std::size_t offset = alignment <= kHeader ? kHeader : alignment;
  std::size_t total;
  if (size >= (std::size_t{1} << 48) || __builtin_add_overflow(size, offset + kMinTail, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* b = alignment > kHeader             ? aligned_alloc_checked(alignment, total)
            : growable && total > kMaxSmall ? malloc_growable(total)
                                            : malloc_fast(total);
  if (b == nullptr) return nullptr;
  return frame(static_cast<char*>(b), size, offset, kind);
}
}  // namespace

// The common case first, without a call: a small block of the calling thread's current
// page. A thread has one only after allocate_block framed a block for it (the keys are
// derived) and counts in its own heap.
void* allocate(std::size_t size, std::size_t alignment, AllocKind kind) noexcept {
  if (FP_LIKELY(alignment <= kHeader && size - 1 < kMaxSmall)) {
    Page* pg;
    if (auto* b = static_cast<char*>(pop_current(size + kFrame, &pg)); FP_LIKELY(b)) {
      bump(tls_heap->stats.requested, static_cast<std::int64_t>(size));
      return write_frame(derived_keys(), b, b + pg->pool.block_size(), size, kHeader, kind);
    }
  }
  return allocate_block(size, alignment, kind, false);
}

namespace {
// A checked block released: its header marked, its size uncounted, and a small block
// filled and quarantined (a big one goes straight back to the core).
FP_FAST_PATH void release_block(const Block& blk, void* p, AllocKind kind,
                                std::size_t sized) noexcept {
  if (FP_UNLIKELY(mismatched(blk.kind, kind))) report_mismatch(kind, p);
  if (sized != 0 && sized != blk.size)
    report(kind == AllocKind::new_array
               ? "operator delete[](): sized delete with a size the block was not allocated with"
               : "operator delete(): sized delete with a size the block was not allocated with",
           p);
  header_of(p)->h1 ^= derived_keys().freed;
  count_requested(-static_cast<std::int64_t>(blk.size));
  if (blk.pg->kind != PageKind::small) return free_fast(blk.b);
  Released r{blk.pg, blk.b, static_cast<char*>(p), blk.filled_end, blk.end};
  fill_freed(r);
  quarantine(r);
}
// Null, malloc(0)'s addresses, big blocks, and pointers that are no block (reported).
FP_SLOW_PATH void release_not_small(void* p, Page* pg, AllocKind kind, std::size_t sized) noexcept {
  if (p == nullptr || is_zero_block(p)) return;
  release_block(checked_block(p, pg, false), p, kind, sized);
}
}  // namespace

// A small page's block inline; the rest (big blocks, null, malloc(0)) out of line.
void release(void* p, AllocKind kind, std::size_t sized) noexcept {
  Page* pg = page_map::find(p);
  if (FP_UNLIKELY(pg->kind != PageKind::small)) return release_not_small(p, pg, kind, sized);
  release_block(checked_block(p, pg, false), p, kind, sized);
}

// Small blocks are zeroed here (they hold the fill). Bigger ones take the core's calloc,
// which knows which read as zero already (fresh mappings, purged slices): only the frame
// is written to those, so a big calloc stays unresident.
void* calloc(std::size_t n, std::size_t size) noexcept {
  std::size_t total;
  if (__builtin_mul_overflow(n, size, &total) || total >= (std::size_t{1} << 48)) {
    errno = ENOMEM;
    return nullptr;
  }
  if (total + kFrame <= kMaxClassSize) {
    void* p = allocate(total, 0, AllocKind::malloc);
    if (p != nullptr) __builtin_memset(p, 0, total);
    return p;
  }
  void* b = calloc_impl(1, total + kFrame);
  if (b == nullptr) return nullptr;
  return frame(static_cast<char*>(b), total, kHeader, AllocKind::malloc);
}

void* realloc(void* p, std::size_t size) noexcept {
  if (p == nullptr || is_zero_block(p)) return allocate(size, 0, AllocKind::malloc);
  if (size == 0) {  // glibc: frees and returns NULL
    release(p, AllocKind::malloc, 0);
    return nullptr;
  }
  Block blk = checked_block(p, page_map::find(p), true);
  std::size_t total;
  if (size >= (std::size_t{1} << 48) || __builtin_add_overflow(size, kFrame, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  // A plain block resizes like the core's (in place, or remapped): framed again after.
  if (static_cast<char*>(p) == blk.b + kHeader) {
    if (void* b = resize_block(blk.b, blk.pg, total)) {
      auto* nb = static_cast<char*>(b);
      count_requested(static_cast<std::int64_t>(size) - static_cast<std::int64_t>(blk.size));
      return write_frame(derived_keys(), nb, nb + fastpool::usable_size(nb), size, kHeader,
                         blk.kind);
    }
  }
  void* q = allocate_block(size, 0, blk.kind, size > blk.size);
  if (q == nullptr) return nullptr;
  __builtin_memcpy(q, p, size < blk.size ? size : blk.size);
  release(p, blk.kind, 0);
  return q;
}

void flush_thread() noexcept {
  flush_quarantine();
  if (tls_heapless_requested != 0) flush_heapless();
}

namespace {
// The thread that calls exit() has its quarantine checked too (other threads check theirs
// as they exit): a write after free of a block still held there would never be seen
// otherwise. A destructor runs after the program's own atexit handlers and static
// destructors, so what they free is checked as well.
__attribute__((destructor)) void check_quarantine_at_exit() {
  flush_quarantine();
}
}  // namespace

std::size_t requested_bytes() noexcept {
  std::int64_t sum = g_heapless_requested.load(std::memory_order_relaxed);
  heap::for_each_heap(
      [](Heap* h, void* arg) {
        *static_cast<std::int64_t*>(arg) += h->stats.requested.load(std::memory_order_relaxed);
      },
      &sum);
  return sum > 0 ? static_cast<std::size_t>(sum) : 0;
}

// The user pointer is the core's block start plus 2^shift (header of write_frame): the
// one offset whose header is intact and names that shift.
void* block_of(const void* p) noexcept {
  BlockSpan s = block_span(p);
  if (s.start == nullptr) return nullptr;
  for (std::size_t offset = kHeader; s.start + offset < s.end; offset *= 2) {
    char* q = s.start + offset;
    Header h = *header_of(q);
    if (h.h1 == canary(keys(), q, h.h0) && offset_of(h.h0) == offset) return q;
  }
  return nullptr;
}

std::size_t usable_size(const void* p) noexcept {
  if (p == nullptr || is_zero_block(p) || !page_map::owns(p)) return 0;
  return size_of(header_of(const_cast<void*>(p))->h0);
}

}  // namespace fastpool::secure

#endif  // FASTPOOL_SECURE
