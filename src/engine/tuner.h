// Tuner: measures a model's throughput per batch size and instance layout on the device it runs
// on, so the engine batches the way that is fastest there. On a 2-core CPU batch 1 usually wins
// (activations outgrow the cache); GPUs gain from large batches. Results are stored beside the
// model as tuning.json and applied by the engine at load.
//
// Thread-compatible: one Tune call at a time per model; it starts its own measurement threads.
#ifndef SEGHUB_ENGINE_TUNER_H_
#define SEGHUB_ENGINE_TUNER_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/backend.h"
#include "engine/model_config.h"

namespace seghub::engine {

struct TuneOptions {
  int cpu_threads = 0;              // total; 0 = hardware cores
  std::vector<int> batch_sizes;     // empty: 1, 2, 4, ... up to max_batch_size
  double seconds_per_point = 2.0;   // measuring time per (layout, batch) point
  double max_batch_latency_ms = 0;  // 0 = no latency limit
};

struct TunePoint {
  int instances = 1;
  int threads_per_instance = 1;
  int batch_size = 1;
  double samples_per_second = 0;
  double batch_latency_ms = 0;  // median time of one batch
};

struct TuneResult {
  std::string device;
  Shape sample_shape;
  std::vector<TunePoint> points;
  TunePoint best;
  nlohmann::json ToJson() const;
};

// Loads the model through `backend` once per layout and measures every point.
Result<TuneResult> TuneModel(const ModelConfig& config, Backend* backend, const TuneOptions& opts);

// tuning.json beside the model: {"<device>": {best, points, sample_shape}, ...}.
Status SaveTuning(const ModelConfig& config, const TuneResult& result);
// Applies the stored best point for `device` (batch size, instances, threads) to *config.
// Returns false when there is none.
bool ApplyTuning(const std::string& device, ModelConfig* config);

}  // namespace seghub::engine

#endif  // SEGHUB_ENGINE_TUNER_H_
