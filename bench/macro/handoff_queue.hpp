// A bounded blocking queue of batches: the one synchronisation primitive the cross-thread
// workloads share. Bounded so a fast producer cannot pile up unbounded memory (that would
// measure the queue, not the allocator); batched so the lock is not the bottleneck.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

namespace bench {

template <typename T>
class HandoffQueue {
 public:
  explicit HandoffQueue(std::size_t max_batches = 64) : max_batches_(max_batches) {}

  void push(std::vector<T> batch) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return batches_.size() < max_batches_; });
    batches_.push_back(std::move(batch));
    not_empty_.notify_one();
  }

  // Returns false once the queue is closed and drained.
  bool pop(std::vector<T>& out) {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !batches_.empty() || closed_; });
    if (batches_.empty()) return false;
    out = std::move(batches_.front());
    batches_.pop_front();
    not_full_.notify_one();
    return true;
  }

  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<std::vector<T>> batches_;
  std::size_t max_batches_;
  bool closed_ = false;
};

}  // namespace bench
