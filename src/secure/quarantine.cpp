// The per-thread quarantine of released blocks.
#ifdef FASTPOOL_SECURE

#include "secure/quarantine.hpp"

#include "api/front.hpp"
#include "secure/freed.hpp"
#include "secure/keys.hpp"

namespace fastpool::secure {
__thread Quarantine tls_quarantine __attribute__((tls_model("initial-exec")));

bool reseeded(Quarantine& q) noexcept {
  if (tls_remote.exited) return false;
  static std::atomic<std::uint64_t> seeds{0};  // each seeding of a thread's differs
  std::uint64_t n = seeds.fetch_add(1, std::memory_order_relaxed);
  q.rng = mix(keys().seed ^ reinterpret_cast<std::uintptr_t>(&q) ^ mix(n)) | 1;
  return true;
}

void evict(Quarantine& q, const Slot& kept) noexcept {
  for (unsigned i = 0; q.total > kQuarantineBytes; i = (i + 1) % kQuarantineSlots) {
    Slot& s = q.slot[i];
    if (s.b == nullptr || &s == &kept) continue;
    q.total -= s.bytes();
    give_back(s);
    s.b = nullptr;
  }
}

void flush_quarantine() noexcept {
  Quarantine& q = tls_quarantine;
  for (Slot& s : q.slot) {
    if (s.b != nullptr) give_back(s);
    s.b = nullptr;
  }
  q.total = 0;
  q.rng = 0;
}

}  // namespace fastpool::secure

#endif  // FASTPOOL_SECURE
