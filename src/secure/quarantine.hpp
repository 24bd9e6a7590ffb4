// The hardened layer's quarantine: released small blocks wait here, per thread (64 slots,
// 4 MiB); each release takes a random slot and gives its block back to the core, checked
// (check_freed), so the next mallocs of a class, and smaller requests, do not get the
// block just freed, and the order blocks come back in cannot be predicted.
#pragma once

#include <bit>

#include "api/alloc.hpp"
#include "secure/freed.hpp"

namespace fastpool::secure {

inline constexpr int kQuarantineSlots = 64;
inline constexpr std::size_t kQuarantineBytes = 4 << 20;  // per thread

inline constexpr int kSlotShift = 26;
static_assert(kQuarantineBytes < std::size_t{1} << kSlotShift);
struct Slot {
  char* b;                    // null: empty
  Page* pg;                   // b's
  std::uint32_t filled;       // filled_end - b
  std::uint32_t bytes_shift;  // end - b, | log2(p - b) << kSlotShift

  std::uint32_t bytes() const noexcept { return bytes_shift & ((1u << kSlotShift) - 1); }
  char* p() const noexcept { return b + (std::size_t{1} << (bytes_shift >> kSlotShift)); }
};
// A block goes into a random slot and the one there leaves: each block stays for a
// random number of frees (64 on average), and nothing needs counting but the bytes.
struct Quarantine {
  Slot slot[kQuarantineSlots];
  std::size_t total;  // bytes of the blocks in the slots
  std::uint64_t rng;  // an LCG's state; 0 until seeded
};
extern __thread Quarantine tls_quarantine __attribute__((tls_model("initial-exec")));

// While the bytes exceed the bound, gives other slots' blocks but `kept`'s back to the
// core, checked.
FP_SLOW_PATH void evict(Quarantine& q, const Slot& kept) noexcept;

// A block leaving the quarantine, checked, back to the core.
FP_FAST_PATH void give_back(const Slot& s) noexcept {
  check_freed(s.p(), s.b + s.filled);
  free_validated(s.b, s.pg);
}

// Seeds q's rng (0: a thread's first release, or the first after a flush) and returns
// true, or false past the thread's exit hook, when nothing would flush the quarantine.
FP_SLOW_PATH bool reseeded(Quarantine& q) noexcept;

// REQUIRES: r is a released small block, filled (fill_freed), r.p - r.b a power of two.
FP_FAST_PATH void quarantine(const Released& r) noexcept {
  static_assert(kQuarantineSlots == 64 && kMaxClassSize <= kQuarantineBytes / 4);
  Quarantine& q = tls_quarantine;
  if (FP_UNLIKELY(q.rng == 0) && !reseeded(q)) return free_validated(r.b, r.pg);
  q.rng = q.rng * 6364136223846793005u + 1442695040888963407u;  // Knuth's MMIX LCG
  Slot& s = q.slot[q.rng >> 58];  // the top bits (an LCG's best): [0, 64)
  Slot out = s;
  auto bytes = static_cast<std::uint32_t>(r.end - r.b);
  auto shift = static_cast<std::uint32_t>(std::countr_zero(static_cast<std::size_t>(r.p - r.b)));
  s = {r.b, r.pg, static_cast<std::uint32_t>(r.filled_end - r.b), bytes | shift << kSlotShift};
  q.total += bytes;
  if (FP_LIKELY(out.b != nullptr)) {
    q.total -= out.bytes();
    give_back(out);
  }
  if (FP_UNLIKELY(q.total > kQuarantineBytes)) evict(q, s);
}

// Every block of the calling thread's quarantine back to the core, checked; the rng
// unseeded.
void flush_quarantine() noexcept;

}  // namespace fastpool::secure
