// The thread-local engine: an owner-only front over another engine. It adds no
// synchronisation; it records which thread owns it so that checked code can stop a
// second thread from touching it (a data race the pool cannot survive).
#pragma once

#include "fastpool/engine/platform.hpp"

namespace fastpool::engine {

// A per-thread address: unique among live threads, free to read.
inline const void* current_thread_tag() noexcept {
  static thread_local char tag;
  return &tag;
}

template <class Engine>
class ThreadOwned {
 public:
  ThreadOwned() noexcept : owner_(current_thread_tag()) {}

  // The engine, after checking (with Check: the caller's mode) that the caller owns it.
  template <bool Check>
  FP_FAST_PATH Engine& get(const char* who = "thread-local pool") noexcept {
    if constexpr (Check)
      if (FP_UNLIKELY(owner_ != current_thread_tag())) fatal(who, this);
    return engine_;
  }
  Engine& unchecked() noexcept { return engine_; }
  const Engine& unchecked() const noexcept { return engine_; }
  bool owned_by_caller() const noexcept { return owner_ == current_thread_tag(); }

 private:
  const void* owner_;
  Engine engine_;
};

}  // namespace fastpool::engine
