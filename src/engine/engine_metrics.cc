#include "engine/engine_metrics.h"

namespace seghub::engine {

EngineMetrics::EngineMetrics(metrics::Registry* r)
    : requests(r->AddCounter("seghub_inference_requests_total",
                             "Inference requests accepted by the engine", {"model"})),
      failures(r->AddCounter("seghub_inference_failures_total",
                             "Inference requests refused or failed, by reason",
                             {"model", "reason"})),
      queue_time(r->AddHistogram("seghub_inference_queue_seconds",
                                 "Time from enqueue to batch start", {"model"},
                                 metrics::LatencyBuckets())),
      compute_time(r->AddHistogram("seghub_inference_compute_seconds", "Backend time per batch",
                                   {"model"}, metrics::LatencyBuckets())),
      batch_size(r->AddHistogram("seghub_inference_batch_size", "Samples per executed batch",
                                 {"model"}, {1, 2, 4, 8, 16, 32, 64, 128})),
      pending(r->AddGauge("seghub_inference_pending_requests", "Requests waiting in the queue",
                          {"model"})),
      in_flight(r->AddGauge("seghub_inference_in_flight_requests",
                            "Requests in batches that are running", {"model"})),
      memory_used(r->AddGauge("seghub_model_memory_bytes",
                              "Budgeted bytes in use (weights + running activations)", {"model"})),
      memory_peak(r->AddGauge("seghub_model_memory_peak_bytes", "Peak of seghub_model_memory_bytes",
                              {"model"})),
      model_ready(
          r->AddGauge("seghub_model_ready", "1 when the model is loaded and serving", {"model"})),
      loads(r->AddCounter("seghub_model_loads_total", "Model loads", {"model"})),
      unloads(r->AddCounter("seghub_model_unloads_total", "Model unloads (LRU or explicit)",
                            {"model"})),
      budget_bytes(r->AddGauge("seghub_memory_budget_bytes", "Configured memory budget")),
      budget_used(r->AddGauge("seghub_memory_used_bytes", "Bytes reserved from the budget")),
      budget_peak(r->AddGauge("seghub_memory_peak_bytes", "Peak bytes reserved from the budget")) {}

}  // namespace seghub::engine
