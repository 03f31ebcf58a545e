// Injectable clock. Everything that makes a time-based decision (the batcher, deadlines, rate
// limits) takes a Clock so tests can drive time by hand. Implementations are thread-safe.
#ifndef SEGHUB_COMMON_CLOCK_H_
#define SEGHUB_COMMON_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace seghub {

using SteadyTime = std::chrono::steady_clock::time_point;
using Micros = std::chrono::microseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime Now() const = 0;
  // Wall-clock time in unix milliseconds, for timestamps that are stored or shown (database
  // rows, tokens). Never use it for intervals: it can jump.
  virtual int64_t NowUnixMs() const;
};

// The real monotonic clock. A process-wide instance; never destroyed.
class SystemClock final : public Clock {
 public:
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  static const Clock* Get();
};

// A clock that only moves when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(SteadyTime start = SteadyTime{} + std::chrono::hours(1))
      : start_(start), now_(start) {}
  SteadyTime Now() const override { return now_.load(); }
  // Starts at 2026-01-01T00:00:00Z and moves with Advance()/Set().
  int64_t NowUnixMs() const override;
  void Advance(std::chrono::nanoseconds d) { now_.store(now_.load() + d); }
  void Set(SteadyTime t) { now_.store(t); }

 private:
  const SteadyTime start_;
  std::atomic<SteadyTime> now_;
};

}  // namespace seghub

#endif  // SEGHUB_COMMON_CLOCK_H_
