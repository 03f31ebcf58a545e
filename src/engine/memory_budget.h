// MemoryBudget: byte accounting for weights plus activations against a configured limit.
//
// Reservations are explicit: a model reserves its weights at load and each batch reserves its
// activations before it runs. Thread-safe (one mutex, held for a few instructions).
#ifndef SEGHUB_ENGINE_MEMORY_BUDGET_H_
#define SEGHUB_ENGINE_MEMORY_BUDGET_H_

#include <cstdint>
#include <mutex>

namespace seghub::engine {

class MemoryBudget {
 public:
  explicit MemoryBudget(int64_t capacity) : capacity_(capacity) {}

  // Reserves `bytes` if they fit; false (and nothing reserved) otherwise.
  bool TryReserve(int64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    if (bytes < 0 || used_ + bytes > capacity_) return false;
    used_ += bytes;
    if (used_ > peak_) peak_ = used_;
    return true;
  }
  void Release(int64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    used_ -= bytes;
    if (used_ < 0) used_ = 0;
  }
  int64_t capacity() const { return capacity_; }
  int64_t used() const {
    std::lock_guard<std::mutex> lock(mu_);
    return used_;
  }
  int64_t available() const {
    std::lock_guard<std::mutex> lock(mu_);
    return capacity_ - used_;
  }
  int64_t peak() const {
    std::lock_guard<std::mutex> lock(mu_);
    return peak_;
  }

 private:
  const int64_t capacity_;
  mutable std::mutex mu_;
  int64_t used_ = 0;  // guarded by mu_
  int64_t peak_ = 0;  // guarded by mu_
};

}  // namespace seghub::engine

#endif  // SEGHUB_ENGINE_MEMORY_BUDGET_H_
