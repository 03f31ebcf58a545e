#include "common/clock.h"

namespace seghub {

int64_t Clock::NowUnixMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t ManualClock::NowUnixMs() const {
  constexpr int64_t k20260101Ms = 1767225600000;
  return k20260101Ms +
         std::chrono::duration_cast<std::chrono::milliseconds>(now_.load() - start_).count();
}

const Clock* SystemClock::Get() {
  static const SystemClock* clock = new SystemClock();  // leaked on purpose: outlives statics
  return clock;
}

}  // namespace seghub
