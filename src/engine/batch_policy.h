// The dynamic batching decision, as a pure function of (queue snapshot, now, policy).
//
// No threads, no clock reads, no side effects: the scheduler takes a snapshot under its lock, asks
// DecideBatch what to do, and acts. Tests drive it with hand-made snapshots and times.
#ifndef SEGHUB_ENGINE_BATCH_POLICY_H_
#define SEGHUB_ENGINE_BATCH_POLICY_H_

#include <vector>

#include "common/clock.h"

namespace seghub::engine {

struct BatchPolicy {
  int max_batch_size = 8;                  // hard cap (config, tuning and memory budget applied)
  std::vector<int> preferred_batch_sizes;  // ascending; empty = every size is fine
  Micros max_queue_delay{2000};            // longest the oldest request may wait for company
};

struct QueueSnapshot {
  // Requests that could join the next batch: same shape as the request fairness picks next.
  int batchable = 0;
  // Enqueue time of the oldest of them.
  SteadyTime oldest_enqueue{};
  // True when no other request of any shape is waiting behind them (waiting for more company
  // then delays nobody else).
  bool only_shape = true;
};

struct BatchDecision {
  enum class Kind { kIdle, kWait, kRun };
  Kind kind = Kind::kIdle;
  int batch_size = 0;    // kRun: how many to take
  SteadyTime wake_at{};  // kWait: decide again at this time (or when the queue changes)
};

// Rules, in order:
// 1. Nothing batchable: idle.
// 2. Enough for max_batch_size (or the largest preferred size): run it now.
// 3. The oldest has waited max_queue_delay (or another shape is waiting behind): run now with the
//    largest preferred size that fits, else everything batchable (capped by max_batch_size).
// 4. Otherwise wait until the oldest's delay runs out.
BatchDecision DecideBatch(const QueueSnapshot& queue, SteadyTime now, const BatchPolicy& policy);

}  // namespace seghub::engine

#endif  // SEGHUB_ENGINE_BATCH_POLICY_H_
