// PdService: partial-discharge analysis of raw signals on the shared inference engine.
//
// One request holds one or many signals. Each signal is preprocessed (clip, zero-phase
// high-pass, normalise; signals/pd_pipeline.h) and cut into overlapping windows; EVERY window of
// EVERY signal is submitted to the engine as its own InferRequest ([1, window] tensor) at once,
// so the engine's dynamic batcher packs them (and windows of other clients' requests) into full
// batches instead of running the original service's one window at a time. When the last window
// is back, the outputs are turned into probabilities (model.json output.activation), stitched,
// thresholded into regions and serialised as signals::SignalResultToJson, plus request timing.
//
// Threading: thread-safe; any number of requests may be in flight. Analyse() never waits for
// inference. With a TaskPool, preprocessing and post-processing run on the pool, so neither the
// caller (an HTTP io thread) nor the engine's instance threads do that CPU work; without one,
// preprocessing runs on the caller's thread and post-processing on the engine thread that
// delivered the last window (fine for the CLI and tests).
// Ownership: the engine and the pool are borrowed and must outlive the service and every
// request in flight.
#ifndef SEGHUB_PIPELINE_PD_SERVICE_H_
#define SEGHUB_PIPELINE_PD_SERVICE_H_

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "engine/engine.h"
#include "pipeline/task_pool.h"
#include "signals/pd_pipeline.h"
#include "signals/signal_io.h"

namespace seghub::pipeline {

struct PdRequest {
  signals::Signals signals;  // raw samples, one vector per signal
  signals::PreprocessOptions preprocess;
  signals::RegionOptions regions;  // thresholds and sample rate
  // Unset: the model's postprocess.merge_gap / min_length (regions.merge_gap and min_length
  // are overwritten with the value used).
  std::optional<size_t> merge_gap;
  std::optional<size_t> min_length;
  size_t max_points = 2000;             // per downsampled series in the JSON
  std::string client_id = "anonymous";  // engine fairness key
  int priority = 0;
  std::optional<SteadyTime> deadline;
  std::shared_ptr<engine::CancelToken> cancel;  // optional; cancelling drops unstarted windows
};

using PdDone = std::function<void(Result<nlohmann::json>)>;

struct PdServiceOptions {
  size_t window = 1024;  // the network's input length (a multiple of 16 for unet1d)
  double overlap = 0.5;
  size_t max_signals = 1024;  // per request
};

class PdService {
 public:
  // `engine` (required) and `pool` (optional, see above) are borrowed.
  PdService(engine::Engine* engine, std::string model, TaskPool* pool = nullptr,
            PdServiceOptions options = {});

  // Admits the request and returns at once. On OK, `done` is called exactly once, from a pool or
  // engine thread (or this thread when nothing reached the engine), with
  //   {"model", "signals": [SignalResultToJson...], "num_windows", "timing_ms": {...}}.
  // On error (empty request, pool queue full: kResourceExhausted) `done` is not called. Errors
  // found later (bad signal: kInvalidArgument; engine queue full: kResourceExhausted; model not
  // loaded: kUnavailable/kNotFound) go to `done`.
  Status Analyse(PdRequest request, PdDone done) const;

  // Analyse and wait. Must not be called from an engine or pool thread (it would wait on itself).
  Result<nlohmann::json> AnalyseBlocking(PdRequest request) const;

  const std::string& model() const { return model_; }

 private:
  struct Job;
  void Start(std::shared_ptr<Job> job) const;
  void SubmitWindows(const std::shared_ptr<Job>& job) const;
  void OnWindowDone(const std::shared_ptr<Job>& job) const;
  void Finish(const std::shared_ptr<Job>& job) const;
  void Complete(const std::shared_ptr<Job>& job) const;

  engine::Engine* engine_;
  std::string model_;
  TaskPool* pool_;
  PdServiceOptions options_;
};

}  // namespace seghub::pipeline

#endif  // SEGHUB_PIPELINE_PD_SERVICE_H_
