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
  char* b;                            // null: empty
  std::uint32_t unit[freed::kUnits];  // the filled windows (fill_freed), from b
  std::uint32_t bytes;                // end - b
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
// While the bytes exceed the bound, gives other slots' blocks but `kept`'s back to the
// core, checked.
FP_SLOW_PATH void evict(Quarantine& q, const Slot& kept) noexcept;

// A block leaving the quarantine, checked, back to the core.
FP_FAST_PATH void give_back(const Slot& s) noexcept {
  check_freed(
      {{s.b + s.unit[0], s.b + s.unit[1], s.b + s.unit[2], s.b + s.unit[3], s.b + s.unit[4]}});
  free_fast(s.b);
}

// REQUIRES: r is a released small block, u = fill_freed(r).
FP_FAST_PATH void quarantine(const Released& r, const freed::Units& u) noexcept {
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
  s.b = r.b;
  static_assert(freed::kUnits == 5);
  auto off = [&r](char* c) { return static_cast<std::uint32_t>(c - r.b); };
  s.unit[0] = off(u.at[0]), s.unit[1] = off(u.at[1]), s.unit[2] = off(u.at[2]);
  s.unit[3] = off(u.at[3]), s.unit[4] = off(u.at[4]);
  s.bytes = static_cast<std::uint32_t>(bytes);
  q.total += bytes;
  if (FP_LIKELY(out.b != nullptr)) {
    q.total -= out.bytes;
    give_back(out);
  }
  if (FP_UNLIKELY(q.total > kQuarantineBytes)) evict(q, s);
}

// Every block of the calling thread's quarantine back to the core, checked.
void flush_quarantine() noexcept;

}  // namespace fastpool::secure
