#include "common/clock.h"

namespace seghub {

const Clock* SystemClock::Get() {
  static const SystemClock* clock = new SystemClock();  // leaked on purpose: outlives statics
  return clock;
}

}  // namespace seghub
