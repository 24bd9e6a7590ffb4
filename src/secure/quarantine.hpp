// The hardened layer's quarantine: released small blocks wait here, per thread (64 slots,
// 4 MiB); each release takes a random slot and gives its block back to the core, checked
// (check_freed), so the next mallocs of a class, and smaller requests, do not get the
// block just freed, and the order blocks come back in cannot be predicted.
#pragma once

#include "api/alloc.hpp"
#include "secure/freed.hpp"

namespace fastpool::secure {

inline constexpr int kQuarantineSlots = 64;
inline constexpr std::size_t kQuarantineBytes = 4 << 20;  // per thread

struct Slot {
  char* b;                           // null: empty
  std::uint32_t start, user, bytes;  // p - b, user_end - b, end - b
};
// A block goes into a random slot and the one there leaves: each block stays for a
// random number of frees (64 on average), and nothing needs counting but the bytes.
struct Quarantine {
  Slot slot[kQuarantineSlots];
  std::size_t total;  // bytes of the blocks in the slots
  std::uint64_t rng;  // xorshift64; 0 until seeded
};
extern __thread Quarantine tls_quarantine __attribute__((tls_model("initial-exec")));

FP_COLD void seed(Quarantine& q) noexcept;
// Gives `out` (when it holds a block) and, while the bytes exceed the bound, other slots'
// blocks but `kept`'s back to the core, checked.
void evict(Quarantine& q, const Slot& out, const Slot& kept) noexcept;

// REQUIRES: r is a released small block, filled (fill_freed).
FP_FAST_PATH void quarantine(const Released& r) noexcept {
  static_assert(kQuarantineSlots == 64);
  Quarantine& q = tls_quarantine;
  auto bytes = static_cast<std::size_t>(r.end - r.b);
  // Past the thread's exit hook nothing would flush it: give the block back now.
  if (FP_UNLIKELY(tls_remote.exited || bytes > kQuarantineBytes / 4)) return free_fast(r.b);
  if (FP_UNLIKELY(q.rng == 0)) seed(q);
  q.rng ^= q.rng << 13;
  q.rng ^= q.rng >> 7;
  q.rng ^= q.rng << 17;
  Slot& s = q.slot[q.rng >> 58];  // the top bits: [0, 64)
  Slot out = s;
  s = {r.b, static_cast<std::uint32_t>(r.p - r.b), static_cast<std::uint32_t>(r.user_end - r.b),
       static_cast<std::uint32_t>(bytes)};
  q.total += bytes;
  if (out.b != nullptr || q.total > kQuarantineBytes) evict(q, out, s);
}

// Every block of the calling thread's quarantine back to the core, checked.
void flush_quarantine() noexcept;

}  // namespace fastpool::secure
