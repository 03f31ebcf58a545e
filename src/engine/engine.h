// Engine: the inference engine under every seghub pipeline.
//
// A model repository (a folder of model folders), per-model fair queues with dynamic batching,
// N worker instances per model with no model lock, a memory budget with LRU unloading, and
// Prometheus metrics. Callers submit one sample per request; the engine batches samples of the
// same shape across requests and clients.
//
// Threading: every public method is thread-safe. Submit() never blocks on inference: it validates,
// enqueues and returns; `done` is called exactly once, from a worker thread (or from the caller's
// thread). When Submit returns an error, `done` is not called.
// Ownership: the caller owns the Engine; the Engine owns models, instances and their threads.
#ifndef SEGHUB_ENGINE_ENGINE_H_
#define SEGHUB_ENGINE_ENGINE_H_

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "engine/backend.h"
#include "engine/model_config.h"
#include "engine/tensor.h"
#include "metrics/metrics.h"

namespace seghub::engine {

// Set by whoever no longer wants the result (an HTTP client that went away). A cancelled request
// that has not started never runs.
class CancelToken {
 public:
  void Cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
};

struct InferRequest {
  std::string model;
  std::string client_id = "anonymous";  // fairness key (a user, an API token, an IP)
  int priority = 0;                     // 0..10, higher runs first
  Tensor input;                         // one sample, without the batch dimension
  std::optional<SteadyTime> deadline;   // not started by then: kDeadlineExceeded
  std::shared_ptr<CancelToken> cancel;  // optional
};

struct InferResult {
  Tensor output;       // one sample, without the batch dimension
  int batch_size = 0;  // size of the batch it ran in
  Micros queue_time{0};
  Micros compute_time{0};
};

using DoneCallback = std::function<void(Result<InferResult>)>;

struct EngineOptions {
  std::filesystem::path model_dir = "models";
  int64_t memory_budget_bytes = 8LL << 30;
  int cpu_threads = 0;           // total compute threads for all instances; 0 = hardware cores
  bool load_all = true;          // load every model at Start() (else on first request)
  bool warmup = true;            // run one sample per instance after loading
  const Clock* clock = nullptr;  // default: SystemClock
};

enum class ModelState { kUnloaded, kLoading, kReady, kFailed };
std::string_view ModelStateName(ModelState s);

struct ModelStatus {
  ModelConfig config;
  ModelState state = ModelState::kUnloaded;
  std::string error;  // why loading failed
  bool has_weights = false;
  std::string device;
  int instances = 0;
  int pending = 0;    // queued requests
  int in_flight = 0;  // requests in running batches
  int64_t weight_bytes = 0;
  int64_t sample_bytes = 0;  // activation bytes per reference sample
  int64_t memory_bytes = 0;  // currently reserved (weights + running activations)
  int64_t peak_bytes = 0;
  int effective_max_batch = 0;
};

class Engine {
 public:
  // `backends` and `registry` must outlive the engine. Scans the model repository; nothing is
  // loaded until Start().
  static Result<std::unique_ptr<Engine>> Create(EngineOptions options,
                                                const BackendRegistry* backends,
                                                metrics::Registry* registry);
  ~Engine();  // Shutdown()

  // Loads the models (options.load_all) on a background loader thread and returns at once.
  void Start();
  // True once Start() finished loading (failed models count as finished).
  bool Ready() const;
  // Blocks until Ready() or the timeout; returns Ready().
  bool WaitReady(std::chrono::milliseconds timeout) const;

  // Validates (model known, shape acceptable, fits the memory budget, queue not full) and enqueues.
  // On error `done` is not called. Errors: kNotFound (model), kInvalidArgument (shape),
  // kResourceExhausted with retry-after (queue full; or sample larger than the whole budget),
  // kUnavailable (model failed to load / shutting down).
  Status Submit(InferRequest request, DoneCallback done);
  // Submit and wait.
  Result<InferResult> Infer(InferRequest request);

  // Loads now (blocking), evicting least-recently-used idle models if the budget requires it.
  Status LoadModel(const std::string& name);
  // Unloads if idle; kFailedPrecondition if requests are queued or running.
  Status UnloadModel(const std::string& name);

  std::vector<ModelStatus> ListModels() const;
  Result<ModelStatus> GetModel(const std::string& name) const;
  int64_t memory_used() const;
  int64_t memory_peak() const;
  int64_t memory_budget() const;

  // Stops accepting work, fails queued requests with kUnavailable, joins every thread.
  void Shutdown();

  class Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace seghub::engine

#endif  // SEGHUB_ENGINE_ENGINE_H_
