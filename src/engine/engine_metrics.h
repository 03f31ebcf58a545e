// The engine's Prometheus metrics, created once per registry. Internal to the engine.
#ifndef SEGHUB_ENGINE_ENGINE_METRICS_H_
#define SEGHUB_ENGINE_ENGINE_METRICS_H_

#include "metrics/metrics.h"

namespace seghub::engine {

struct EngineMetrics {
  explicit EngineMetrics(metrics::Registry* r);

  metrics::Family<metrics::Counter>& requests;        // {model}
  metrics::Family<metrics::Counter>& failures;        // {model, reason}
  metrics::Family<metrics::Histogram>& queue_time;    // {model}, seconds
  metrics::Family<metrics::Histogram>& compute_time;  // {model}, seconds per batch
  metrics::Family<metrics::Histogram>& batch_size;    // {model}
  metrics::Family<metrics::Gauge>& pending;           // {model}
  metrics::Family<metrics::Gauge>& in_flight;         // {model}
  metrics::Family<metrics::Gauge>& memory_used;       // {model}
  metrics::Family<metrics::Gauge>& memory_peak;       // {model}
  metrics::Family<metrics::Gauge>& model_ready;       // {model}
  metrics::Family<metrics::Counter>& loads;           // {model}
  metrics::Family<metrics::Counter>& unloads;         // {model}
  metrics::Family<metrics::Gauge>& budget_bytes;      // {}
  metrics::Family<metrics::Gauge>& budget_used;       // {}
  metrics::Family<metrics::Gauge>& budget_peak;       // {}
};

}  // namespace seghub::engine

#endif  // SEGHUB_ENGINE_ENGINE_METRICS_H_
