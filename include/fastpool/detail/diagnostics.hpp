// Client-misuse detection shared by the typed pools: compile-time messages that name the
// pool and T, and the per-slot "handed out" bits that catch a foreign pointer or a double
// destroy. Checks are on in debug builds (no NDEBUG) and in FASTPOOL_SECURE builds.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "fastpool/engine/platform.hpp"

// Checked code (no NDEBUG, or FASTPOOL_SECURE=1) and unchecked code see different types:
// everything whose definition depends on the mode lives in the inline namespace
// `checked` in checked code (fastpool::checked::FixedPool<T>, spelled fastpool::FixedPool<T>
// as ever). So the two modes never share a class or an inline function (no ODR clash
// when files of both are linked together), and a pool handed between files of different
// modes fails to link instead of running with half its bookkeeping.
#if !defined(NDEBUG) || (defined(FASTPOOL_SECURE) && FASTPOOL_SECURE)
#define FP_MODE_BEGIN inline namespace checked {
#define FP_MODE_END }
#define FP_MODE_CHECKED true
#else
#define FP_MODE_BEGIN
#define FP_MODE_END
#define FP_MODE_CHECKED false
#endif

namespace fastpool::detail {
FP_MODE_BEGIN
inline constexpr bool kChecked = FP_MODE_CHECKED;
FP_MODE_END

template <class T>
constexpr std::string_view type_name() noexcept {
  std::string_view f = __PRETTY_FUNCTION__;
  std::size_t begin = f.find("T = ");
  if (begin == std::string_view::npos) return "T";
  begin += 4;
  std::size_t end = f.find_first_of(";]", begin);
  return f.substr(begin, end - begin);
}

// A string literal usable as a template argument.
template <std::size_t N>
struct Literal {
  constexpr Literal(const char (&s)[N]) { std::copy_n(s, N, text); }
  char text[N];
};

// "fastpool::<Kind><T>: <What>", built at compile time so that reporting misuse
// allocates nothing.
template <Literal Kind, class T, Literal What>
struct PoolMessage {
  static constexpr std::string_view prefix = "fastpool::";
  static constexpr std::string_view kind{Kind.text};
  static constexpr std::string_view type = type_name<T>();
  static constexpr std::string_view what{What.text};
  static constexpr std::size_t size =
      prefix.size() + kind.size() + 1 + type.size() + 3 + what.size() + 1;
  static constexpr std::array<char, size> text = [] {
    std::array<char, size> out{};
    char* o = out.data();
    for (std::string_view part :
         {prefix, kind, std::string_view("<"), type, std::string_view(">: "), what})
      o = std::copy(part.begin(), part.end(), o);
    *o = '\0';
    return out;
  }();
  static const char* c_str() noexcept { return text.data(); }
};

// Aborts with "<message> (<count> ...)" when a pool is destroyed with objects out.
template <class Message>
[[noreturn]] FP_COLD void fatal_in_use(std::size_t count, const void* pool) noexcept {
  char buffer[512];
  std::string_view head(Message::c_str());
  std::size_t n = std::min(head.size(), sizeof buffer - 64);
  char* o = std::copy_n(head.data(), n, buffer);
  *o++ = ' ';
  *o++ = '(';
  o = std::to_chars(o, buffer + sizeof buffer - 32, count).ptr;
  std::string_view tail = count == 1 ? " object still in use)" : " objects still in use)";
  o = std::copy(tail.begin(), tail.end(), o);
  *o = '\0';
  engine::fatal(buffer, pool);
}

FP_MODE_BEGIN
// One bit per slot: set while the slot's object is handed out. Atomic so the shared
// pools can use it too; it exists only in checked builds. Its words are allocated, or
// given (a pool over caller storage: bytes(slots) of it, 8-aligned).
class LiveBits {
 public:
  static constexpr std::size_t bytes(std::size_t slots) noexcept { return (slots + 63) / 64 * 8; }
  LiveBits() = default;
  LiveBits(const LiveBits&) = delete;
  LiveBits& operator=(const LiveBits&) = delete;
  ~LiveBits() {
    if (owned_) delete[] words_;
  }
  void init(std::size_t slots, void* given = nullptr) {
    if constexpr (kChecked) {
      std::size_t n = (slots + 63) / 64;
      if (given != nullptr) {
        words_ = ::new (given) std::atomic<std::uint64_t>[n];
      } else {
        words_ = new std::atomic<std::uint64_t>[n];
        owned_ = true;
      }
      for (std::size_t i = 0; i < n; ++i) words_[i].store(0);
    } else {
      (void)slots, (void)given;
    }
  }
  // Returns: false when the slot was already marked (an internal error).
  bool mark(std::size_t slot) noexcept {
    if constexpr (kChecked) {
      std::uint64_t bit = std::uint64_t{1} << (slot % 64);
      return (words_[slot / 64].fetch_or(bit, std::memory_order_relaxed) & bit) == 0;
    }
    (void)slot;
    return true;
  }
  // Returns: false when the slot was not marked (a double release).
  bool unmark(std::size_t slot) noexcept {
    if constexpr (kChecked) {
      std::uint64_t bit = std::uint64_t{1} << (slot % 64);
      return (words_[slot / 64].fetch_and(~bit, std::memory_order_relaxed) & bit) != 0;
    }
    (void)slot;
    return true;
  }

 private:
  std::atomic<std::uint64_t>* words_ = nullptr;
  bool owned_ = false;
};
FP_MODE_END

}  // namespace fastpool::detail
