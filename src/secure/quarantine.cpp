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
  // (rng / 2^32) * count / 2^32: a slot in [0, count) without a division.
  return static_cast<int>(((q.rng >> 32) * static_cast<std::uint64_t>(q.count)) >> 32);
}

}  // namespace

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

#endif  // FASTPOOL_SECURE
