#include "hub/job_queue.h"

namespace seghub::hub {

WallTime::WallTime(const Clock* clock)
    : clock_(clock ? clock : SystemClock::Get()),
      steady_base_(clock_->Now()),
      unix_base_ms_(std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count()) {}

int64_t WallTime::NowMs() const {
  return unix_base_ms_ +
         std::chrono::duration_cast<std::chrono::milliseconds>(clock_->Now() - steady_base_)
             .count();
}

}  // namespace seghub::hub
