// The per-thread quarantine of released blocks.
#ifdef FASTPOOL_SECURE

#include "secure/quarantine.hpp"

#include "api/front.hpp"
#include "secure/freed.hpp"
#include "secure/keys.hpp"

namespace fastpool::secure {
namespace {

constexpr int kQuarantineSlots = 64;
constexpr std::size_t kQuarantineBytes = 4 << 20;  // per thread

struct Slot {
  char* b;                    // null: empty
  std::uint32_t user, bytes;  // user_end - b, end - b
};
// A block goes into a random slot and the one there leaves: each block stays for a
// random number of frees (64 on average), and nothing needs counting but the bytes.
struct Quarantine {
  Slot slot[kQuarantineSlots];
  std::size_t total;  // bytes of the blocks in the slots
  std::uint64_t rng;
};
__thread Quarantine tls_quarantine __attribute__((tls_model("initial-exec")));

unsigned random_slot(Quarantine& q) noexcept {
  if (FP_UNLIKELY(q.rng == 0)) q.rng = mix(keys().seed ^ reinterpret_cast<std::uintptr_t>(&q)) | 1;
  q.rng ^= q.rng << 13;  // xorshift64
  q.rng ^= q.rng >> 7;
  q.rng ^= q.rng << 17;
  return static_cast<unsigned>(q.rng >> 58);  // the top bits: [0, 64)
}

void give_back(Slot& s) noexcept {
  check_freed({s.b, s.b + s.user, s.b + s.bytes});
  free_fast(s.b);
  s.b = nullptr;
}

}  // namespace

void quarantine(const Released& r) noexcept {
  static_assert(kQuarantineSlots == 64);
  Quarantine& q = tls_quarantine;
  auto bytes = static_cast<std::size_t>(r.end - r.b);
  // Past the thread's exit hook nothing would flush it: give the block back now.
  if (tls_remote.exited || bytes > kQuarantineBytes / 4) return free_fast(r.b);
  Slot& s = q.slot[random_slot(q)];
  Slot out = s;
  s = {r.b, static_cast<std::uint32_t>(r.user_end - r.b), static_cast<std::uint32_t>(bytes)};
  q.total += bytes;
  if (out.b != nullptr) {
    q.total -= out.bytes;
    give_back(out);
  }
  for (unsigned i = 0; q.total > kQuarantineBytes; i = (i + 1) % kQuarantineSlots) {
    if (q.slot[i].b == nullptr || &q.slot[i] == &s) continue;
    q.total -= q.slot[i].bytes;
    give_back(q.slot[i]);
  }
}

void flush_quarantine() noexcept {
  Quarantine& q = tls_quarantine;
  for (Slot& s : q.slot)
    if (s.b != nullptr) give_back(s);
  q.total = 0;
}

}  // namespace fastpool::secure

#endif  // FASTPOOL_SECURE
