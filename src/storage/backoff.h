// Private: the sleep between transaction retries, shared by both adapters.
#ifndef SEGHUB_STORAGE_BACKOFF_H_
#define SEGHUB_STORAGE_BACKOFF_H_

#include <chrono>
#include <random>
#include <thread>

namespace seghub::storage {

// Exponential backoff with full jitter (2 ms doubling, capped at 250 ms), so that retrying
// writers spread out instead of colliding again. Any thread.
inline void SleepBeforeRetry(int attempt) {
  thread_local std::minstd_rand rng(std::random_device{}());
  const int shift = attempt < 7 ? attempt : 7;
  const int cap_ms = std::min(250, 2 << shift);
  std::uniform_int_distribution<int> dist(cap_ms / 2, cap_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(dist(rng)));
}

}  // namespace seghub::storage

#endif  // SEGHUB_STORAGE_BACKOFF_H_
