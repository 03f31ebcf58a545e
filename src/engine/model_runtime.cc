#include "engine/model_runtime.h"

#include <algorithm>
#include <exception>

#include "common/logging.h"
#include "engine/tuner.h"

namespace seghub::engine {
namespace {

constexpr auto kMemoryRetry = std::chrono::milliseconds(5);
constexpr auto kMaxWaitSlice = std::chrono::milliseconds(50);

double Seconds(Micros d) { return static_cast<double>(d.count()) / 1e6; }

Micros Since(SteadyTime start, SteadyTime end) {
  return std::chrono::duration_cast<Micros>(end - start);
}

}  // namespace

ModelRuntime::ModelRuntime(ModelConfig config, MemoryBudget* budget, EngineMetrics* metrics,
                           const Clock* clock)
    : config_(std::move(config)),
      budget_(budget),
      metrics_(metrics),
      clock_(clock),
      labels_({config_.name}) {
  policy_.max_batch_size = config_.batching.max_batch_size;
  policy_.preferred_batch_sizes = config_.batching.preferred_batch_sizes;
  policy_.max_queue_delay = Micros(config_.batching.max_queue_delay_us);
  metrics_->model_ready.WithLabels(labels_).Set(0);
}

ModelRuntime::~ModelRuntime() { Unload("engine shutting down"); }

Status ModelRuntime::Load(Backend* backend, int total_threads, bool warmup) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == ModelState::kReady) return Status::Ok();
    state_ = ModelState::kLoading;
    stopping_ = false;
  }
  ModelConfig cfg = config_;
  if (cfg.threads_per_instance == 0) {
    cfg.threads_per_instance = std::max(1, total_threads / cfg.instance_count);
  }
  auto fail = [&](Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    state_ = ModelState::kFailed;
    error_ = s.message();
    SEGHUB_LOG_ERROR("model {}: {}", config_.name, s.ToString());
    return s;
  };
  auto loaded = backend->Load(cfg);
  if (!loaded.ok()) return fail(loaded.status());
  loaded_ = std::move(loaded).value();
  // Measured layout for this device (seghub tune) beats the declared one.
  ModelConfig tuned = cfg;
  if (ApplyTuning(loaded_->device(), &tuned)) {
    SEGHUB_LOG_INFO("model {}: tuned for {}: batch {}, {} instance(s) x {} thread(s)", config_.name,
                    loaded_->device(), tuned.batching.max_batch_size, tuned.instance_count,
                    tuned.threads_per_instance);
    if (tuned.threads_per_instance != cfg.threads_per_instance) {
      loaded_.reset();
      loaded = backend->Load(tuned);
      if (!loaded.ok()) return fail(loaded.status());
      loaded_ = std::move(loaded).value();
    }
    cfg = tuned;
    std::lock_guard<std::mutex> lock(mu_);
    policy_.max_batch_size = cfg.batching.max_batch_size;
    policy_.preferred_batch_sizes = cfg.batching.preferred_batch_sizes;
  }
  weight_bytes_ = loaded_->weight_bytes();
  if (!budget_->TryReserve(weight_bytes_)) {
    loaded_.reset();
    return fail(ResourceExhausted("model " + config_.name + " needs " +
                                  std::to_string(weight_bytes_) +
                                  " bytes of weights; the memory budget has " +
                                  std::to_string(budget_->available()) + " left"));
  }
  ref_sample_bytes_ = config_.per_sample_bytes;
  if (ref_sample_bytes_ <= 0) {
    auto measured = loaded_->MeasureSampleBytes(config_.reference_shape);
    ref_sample_bytes_ = measured.ok() ? *measured : 0;
  }
  for (int i = 0; i < cfg.instance_count; ++i) {
    auto inst = loaded_->CreateInstance(i);
    if (!inst.ok()) {
      instances_.clear();
      loaded_.reset();
      budget_->Release(weight_bytes_);
      return fail(inst.status());
    }
    instances_.push_back(std::move(inst).value());
  }
  if (warmup) {
    // First forward of a shape is slow (oneDNN primitive creation): pay it before serving.
    Tensor sample = Tensor::Zeros(config_.reference_shape);
    for (auto& inst : instances_) {
      auto r = inst->Run(StackBatch({&sample}));
      if (!r.ok())
        SEGHUB_LOG_WARN("model {}: warm-up failed: {}", config_.name, r.status().ToString());
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    reserved_ = weight_bytes_;
    peak_ = std::max(peak_, reserved_);
    state_ = ModelState::kReady;
    error_.clear();
    last_used_ = clock_->Now();
    UpdateGauges();
  }
  for (size_t i = 0; i < instances_.size(); ++i) {
    threads_.emplace_back([this, i] { WorkerLoop(static_cast<int>(i)); });
  }
  metrics_->loads.WithLabels(labels_).Inc();
  metrics_->model_ready.WithLabels(labels_).Set(1);
  SEGHUB_LOG_INFO("model {} loaded on {}: {} instance(s) x {} thread(s), weights {} B, {} B/sample",
                  config_.name, loaded_->device(), instances_.size(), cfg.threads_per_instance,
                  weight_bytes_, ref_sample_bytes_);
  return Status::Ok();
}

bool ModelRuntime::Unload(const std::string& reason, bool only_if_idle) {
  std::vector<Queue::Entry> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != ModelState::kReady && threads_.empty()) return false;
    if (only_if_idle && (!queue_.empty() || in_flight_ > 0)) return false;
    stopping_ = true;
    queue_.RemoveIf([](const Queue::Entry&) { return true; }, &dropped);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  FailDead(dropped, "unavailable", Unavailable("model " + config_.name + " unloaded: " + reason));
  instances_.clear();
  loaded_.reset();
  budget_->Release(weight_bytes_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    reserved_ = 0;
    if (state_ == ModelState::kReady) state_ = ModelState::kUnloaded;
    UpdateGauges();
  }
  metrics_->unloads.WithLabels(labels_).Inc();
  metrics_->model_ready.WithLabels(labels_).Set(0);
  SEGHUB_LOG_INFO("model {} unloaded ({})", config_.name, reason);
  return true;
}

int64_t ModelRuntime::SampleBytes(const Shape& shape) const {
  const int64_t ref = NumElements(config_.reference_shape);
  if (ref_sample_bytes_ <= 0 || ref <= 0) return 0;
  return static_cast<int64_t>(static_cast<double>(ref_sample_bytes_) *
                              static_cast<double>(NumElements(shape)) / static_cast<double>(ref));
}

Status ModelRuntime::Enqueue(InferRequest request, DoneCallback done) {
  const Shape& ref = config_.reference_shape;
  const Shape& shape = request.input.shape;
  if (shape.size() != ref.size() || (!ref.empty() && shape[0] != ref[0])) {
    metrics_->failures.WithLabels({config_.name, "invalid"}).Inc();
    return InvalidArgument("model " + config_.name + " takes samples shaped like " +
                           ShapeToString(ref) + " (first dimension fixed), got " +
                           ShapeToString(shape));
  }
  if (static_cast<int64_t>(request.input.data.size()) != request.input.numel() ||
      request.input.numel() == 0) {
    metrics_->failures.WithLabels({config_.name, "invalid"}).Inc();
    return InvalidArgument("tensor data size does not match its shape " + ShapeToString(shape));
  }
  if (request.priority < 0 || request.priority > 10) {
    return InvalidArgument("priority must be between 0 and 10");
  }
  auto pending = std::make_shared<PendingRequest>();
  const std::string client = request.client_id;
  const int priority = request.priority;
  const std::string key = ShapeToString(shape);
  std::unique_lock<std::mutex> lock(mu_);
  if (state_ == ModelState::kFailed) {
    return Unavailable("model " + config_.name + " failed to load: " + error_);
  }
  pending->sample_bytes = SampleBytes(shape);
  if (pending->sample_bytes > budget_->capacity() - weight_bytes_) {
    metrics_->failures.WithLabels({config_.name, "too_large"}).Inc();
    return PayloadTooLarge("this input needs about " + std::to_string(pending->sample_bytes >> 20) +
                           " MiB of activations, more than the memory budget allows (" +
                           std::to_string((budget_->capacity() - weight_bytes_) >> 20) +
                           " MiB): use a smaller input or tiling");
  }
  if (static_cast<int>(queue_.size()) >= config_.batching.max_queue_size) {
    metrics_->failures.WithLabels({config_.name, "queue_full"}).Inc();
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(EstimateWait(queue_.size()));
    return ResourceExhausted("queue for model " + config_.name + " is full (" +
                             std::to_string(queue_.size()) + " pending)")
        .WithRetryAfter(std::max(wait, std::chrono::milliseconds(1000)));
  }
  pending->request = std::move(request);
  pending->done = std::move(done);
  queue_.Push({pending, client, priority, key, clock_->Now()});
  metrics_->requests.WithLabels(labels_).Inc();
  UpdateGauges();
  lock.unlock();
  cv_.notify_one();
  return Status::Ok();
}

void ModelRuntime::WorkerLoop(int index) {
  ModelInstance* instance = instances_[static_cast<size_t>(index)].get();
  while (true) {
    BatchPolicy used;
    auto batch = NextBatch(&used);
    if (batch.empty()) return;  // stopping
    RunBatch(instance, std::move(batch));
  }
}

std::vector<ModelRuntime::Queue::Entry> ModelRuntime::NextBatch(BatchPolicy* policy_used) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (stopping_) return {};
    const SteadyTime now = clock_->Now();
    std::vector<Queue::Entry> dead;
    queue_.RemoveIf(
        [&](const Queue::Entry& e) {
          const auto& r = e.item->request;
          return (r.cancel && r.cancel->cancelled()) || (r.deadline && *r.deadline <= now);
        },
        &dead);
    if (!dead.empty()) {
      UpdateGauges();
      lock.unlock();
      for (auto& e : dead) {
        std::vector<Queue::Entry> one;
        one.push_back(std::move(e));
        bool cancelled = one[0].item->request.cancel && one[0].item->request.cancel->cancelled();
        FailDead(one, cancelled ? "cancelled" : "deadline",
                 cancelled ? Cancelled("request cancelled before it ran")
                           : DeadlineExceeded("deadline passed before the request could run"));
      }
      lock.lock();
      continue;
    }
    BatchPolicy policy = policy_;
    const Queue::Entry* next = queue_.PeekNext();
    const int64_t sample_bytes = next ? next->item->sample_bytes : 0;
    if (sample_bytes > 0) {
      const int64_t fit = budget_->available() / sample_bytes;
      policy.max_batch_size = static_cast<int>(std::clamp<int64_t>(fit, 0, policy.max_batch_size));
      if (policy.max_batch_size == 0) {  // running batches hold the budget: wait for them
        cv_.wait_for(lock, kMemoryRetry);
        continue;
      }
    }
    const BatchDecision d = DecideBatch(queue_.Snapshot(policy.max_batch_size), now, policy);
    if (d.kind == BatchDecision::Kind::kIdle) {
      cv_.wait(lock);
      continue;
    }
    if (d.kind == BatchDecision::Kind::kWait) {
      auto slice = std::min<std::chrono::nanoseconds>(d.wake_at - now, kMaxWaitSlice);
      cv_.wait_for(lock, std::max<std::chrono::nanoseconds>(slice, std::chrono::microseconds(50)));
      continue;
    }
    const int64_t bytes = sample_bytes * d.batch_size;
    if (!budget_->TryReserve(bytes)) {
      cv_.wait_for(lock, kMemoryRetry);
      continue;
    }
    auto batch = queue_.PopBatch(d.batch_size);
    in_flight_ += static_cast<int>(batch.size());
    reserved_ += bytes;
    peak_ = std::max(peak_, reserved_);
    UpdateGauges();
    *policy_used = policy;
    return batch;
  }
}

void ModelRuntime::RunBatch(ModelInstance* instance, std::vector<Queue::Entry> batch) {
  const SteadyTime start = clock_->Now();
  for (const auto& e : batch) {
    metrics_->queue_time.WithLabels(labels_).Observe(Seconds(Since(e.enqueued, start)));
  }
  Execute(instance, batch, 0, batch.size());
  const SteadyTime end = clock_->Now();
  const int64_t bytes = batch.empty() ? 0 : batch[0].item->sample_bytes * batch.size();
  budget_->Release(bytes);
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_ -= static_cast<int>(batch.size());
    reserved_ -= bytes;
    last_used_ = end;
    const double per = static_cast<double>(Since(start, end).count()) / batch.size();
    us_per_sample_ = us_per_sample_ == 0 ? per : 0.8 * us_per_sample_ + 0.2 * per;
    UpdateGauges();
  }
  cv_.notify_all();  // memory was released: other workers may now fit a batch
}

void ModelRuntime::Execute(ModelInstance* instance, std::vector<Queue::Entry>& batch, size_t first,
                           size_t count) {
  std::vector<const Tensor*> inputs;
  for (size_t i = first; i < first + count; ++i) inputs.push_back(&batch[i].item->request.input);
  const SteadyTime start = clock_->Now();
  Result<Tensor> out = Internal("not run");
  try {
    out = instance->Run(StackBatch(inputs));
  } catch (const std::exception& e) {  // backends should not throw; never let a worker die
    out = Internal(std::string("backend threw: ") + e.what());
  }
  const Micros compute = Since(start, clock_->Now());
  if (!out.ok() && out.status().code() == StatusCode::kResourceExhausted && count > 1) {
    SEGHUB_LOG_WARN("model {}: batch of {} ran out of memory, retrying as two halves", config_.name,
                    count);
    Execute(instance, batch, first, count / 2);
    Execute(instance, batch, first + count / 2, count - count / 2);
    return;
  }
  metrics_->compute_time.WithLabels(labels_).Observe(Seconds(compute));
  metrics_->batch_size.WithLabels(labels_).Observe(static_cast<double>(count));
  if (!out.ok()) {
    metrics_->failures.WithLabels({config_.name, "backend_error"}).Inc();
    for (size_t i = first; i < first + count; ++i) batch[i].item->done(out.status());
    return;
  }
  if (out->shape.empty() || out->shape[0] != static_cast<int64_t>(count)) {
    Status bad = Internal("backend returned " + ShapeToString(out->shape) + " for a batch of " +
                          std::to_string(count));
    for (size_t i = first; i < first + count; ++i) batch[i].item->done(bad);
    return;
  }
  std::vector<Tensor> outputs = UnstackBatch(std::move(out).value());
  for (size_t i = 0; i < count; ++i) {
    auto& e = batch[first + i];
    InferResult r;
    r.output = std::move(outputs[i]);
    r.batch_size = static_cast<int>(count);
    r.queue_time = Since(e.enqueued, start);
    r.compute_time = compute;
    e.item->done(std::move(r));
  }
}

void ModelRuntime::FailDead(std::vector<Queue::Entry>& dead, const char* reason,
                            const Status& status) {
  for (auto& e : dead) {
    metrics_->failures.WithLabels({config_.name, reason}).Inc();
    e.item->done(status);
  }
}

Micros ModelRuntime::EstimateWait(size_t queued) const {
  const double instances = std::max<size_t>(1, instances_.size());
  return Micros(static_cast<int64_t>(us_per_sample_ * static_cast<double>(queued) / instances));
}

void ModelRuntime::UpdateGauges() {
  metrics_->pending.WithLabels(labels_).Set(static_cast<double>(queue_.size()));
  metrics_->in_flight.WithLabels(labels_).Set(in_flight_);
  metrics_->memory_used.WithLabels(labels_).Set(static_cast<double>(reserved_));
  metrics_->memory_peak.WithLabels(labels_).Set(static_cast<double>(peak_));
}

ModelState ModelRuntime::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

bool ModelRuntime::Idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_ == ModelState::kReady && queue_.empty() && in_flight_ == 0;
}

SteadyTime ModelRuntime::last_used() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_used_;
}

ModelStatus ModelRuntime::Describe() const {
  std::lock_guard<std::mutex> lock(mu_);
  ModelStatus s;
  s.config = config_;
  s.state = state_;
  s.error = error_;
  s.has_weights = loaded_ ? loaded_->has_weights() : config_.has_weights();
  s.device = loaded_ ? loaded_->device() : "";
  s.instances = static_cast<int>(instances_.size());
  s.pending = static_cast<int>(queue_.size());
  s.in_flight = in_flight_;
  s.weight_bytes = weight_bytes_;
  s.sample_bytes = ref_sample_bytes_;
  s.memory_bytes = reserved_;
  s.peak_bytes = peak_;
  s.effective_max_batch = policy_.max_batch_size;
  return s;
}

}  // namespace seghub::engine
