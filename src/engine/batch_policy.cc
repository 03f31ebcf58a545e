#include "engine/batch_policy.h"

#include <algorithm>

namespace seghub::engine {
namespace {

// Largest preferred size <= n, or n itself when there is no preference or none fits.
int FitPreferred(int n, const BatchPolicy& policy) {
  int best = 0;
  for (int p : policy.preferred_batch_sizes) {
    if (p <= n) best = std::max(best, p);
  }
  return best > 0 ? best : n;
}

}  // namespace

BatchDecision DecideBatch(const QueueSnapshot& queue, SteadyTime now, const BatchPolicy& policy) {
  BatchDecision d;
  if (queue.batchable <= 0) return d;
  const int cap = std::max(1, policy.max_batch_size);
  const int available = std::min(queue.batchable, cap);
  const int largest_preferred =
      policy.preferred_batch_sizes.empty()
          ? cap
          : std::min(cap, *std::max_element(policy.preferred_batch_sizes.begin(),
                                            policy.preferred_batch_sizes.end()));
  const bool full = available >= largest_preferred;
  const bool expired = now - queue.oldest_enqueue >= policy.max_queue_delay;
  if (full || expired || !queue.only_shape || cap == 1) {
    d.kind = BatchDecision::Kind::kRun;
    d.batch_size = full ? largest_preferred : FitPreferred(available, policy);
    return d;
  }
  d.kind = BatchDecision::Kind::kWait;
  d.wake_at = queue.oldest_enqueue + policy.max_queue_delay;
  return d;
}

}  // namespace seghub::engine
