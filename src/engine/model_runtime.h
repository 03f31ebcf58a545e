// ModelRuntime: one model's queue, instances and their worker threads. Internal to the engine.
//
// Locking: `mu_` guards the queue, state and counters below it; it is held only to enqueue, to
// decide and pop a batch, and to update counters, never while a batch runs. Lock order:
// Engine::load_mu_ -> ModelRuntime::mu_ -> MemoryBudget's mutex.
#ifndef SEGHUB_ENGINE_MODEL_RUNTIME_H_
#define SEGHUB_ENGINE_MODEL_RUNTIME_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/backend.h"
#include "engine/batch_policy.h"
#include "engine/engine.h"
#include "engine/engine_metrics.h"
#include "engine/fair_queue.h"
#include "engine/memory_budget.h"

namespace seghub::engine {

struct PendingRequest {
  InferRequest request;
  DoneCallback done;
  int64_t sample_bytes = 0;  // activation bytes this sample needs
};

class ModelRuntime {
 public:
  ModelRuntime(ModelConfig config, MemoryBudget* budget, EngineMetrics* metrics,
               const Clock* clock);
  ~ModelRuntime();  // Unload()

  const ModelConfig& config() const { return config_; }

  // Loads through `backend`, reserves the weights, starts the instance threads and warms them
  // up. Called from the engine's loader (under Engine::load_mu_). Blocking.
  Status Load(Backend* backend, int total_threads, bool warmup);
  // Stops the threads and frees everything. Queued requests fail with kUnavailable. With
  // `only_if_idle`, does nothing (returns false) unless nothing is queued or running; the check and
  // the stop are atomic, so no request accepted meanwhile is lost.
  bool Unload(const std::string& reason, bool only_if_idle = false);

  // Validates the sample, then enqueues it. See Engine::Submit for the errors.
  Status Enqueue(InferRequest request, DoneCallback done);

  ModelState state() const;
  bool Idle() const;  // loaded, nothing queued or running
  SteadyTime last_used() const;
  ModelStatus Describe() const;
  // Activation bytes of one sample of `shape` (scaled from the reference sample).
  int64_t SampleBytes(const Shape& shape) const;

 private:
  using Queue = FairQueue<std::shared_ptr<PendingRequest>>;

  void WorkerLoop(int index);
  // Waits for, decides and pops the next batch (with its memory reserved). Empty when stopping.
  std::vector<Queue::Entry> NextBatch(BatchPolicy* policy_used);
  void RunBatch(ModelInstance* instance, std::vector<Queue::Entry> batch);
  // Runs a batch; on kResourceExhausted splits it in half and retries each half.
  void Execute(ModelInstance* instance, std::vector<Queue::Entry>& batch, size_t first,
               size_t count);
  void FailDead(std::vector<Queue::Entry>& dead, const char* reason, const Status& status);
  Micros EstimateWait(size_t queued) const;  // for Retry-After
  void UpdateGauges();                       // requires mu_

  const ModelConfig config_;
  MemoryBudget* const budget_;
  EngineMetrics* const metrics_;
  const Clock* const clock_;
  const std::vector<std::string> labels_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Queue queue_;                               // guarded by mu_
  ModelState state_ = ModelState::kUnloaded;  // guarded by mu_
  std::string error_;                         // guarded by mu_
  bool stopping_ = false;                     // guarded by mu_
  int in_flight_ = 0;                         // guarded by mu_
  int64_t reserved_ = 0;                      // guarded by mu_: weights + running activations
  int64_t peak_ = 0;                          // guarded by mu_
  SteadyTime last_used_{};                    // guarded by mu_
  double us_per_sample_ = 0;                  // guarded by mu_: moving average, for Retry-After

  // Set while loaded; read by workers without mu_ (they exist only while these are set).
  std::unique_ptr<LoadedModel> loaded_;
  std::vector<std::unique_ptr<ModelInstance>> instances_;
  std::vector<std::thread> threads_;
  int64_t weight_bytes_ = 0;
  int64_t ref_sample_bytes_ = 0;
  BatchPolicy policy_;  // guarded by mu_ (set at load from config and tuning)
};

}  // namespace seghub::engine

#endif  // SEGHUB_ENGINE_MODEL_RUNTIME_H_
