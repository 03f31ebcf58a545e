#include "engine/engine.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "common/logging.h"
#include "engine/engine_metrics.h"
#include "engine/memory_budget.h"
#include "engine/model_runtime.h"

namespace seghub::engine {

std::string_view ModelStateName(ModelState s) {
  switch (s) {
    case ModelState::kUnloaded:
      return "unloaded";
    case ModelState::kLoading:
      return "loading";
    case ModelState::kReady:
      return "ready";
    case ModelState::kFailed:
      return "failed";
  }
  return "unknown";
}

class Engine::Impl {
 public:
  Impl(EngineOptions options, const BackendRegistry* backends, metrics::Registry* registry)
      : options_(std::move(options)),
        backends_(backends),
        clock_(options_.clock ? options_.clock : SystemClock::Get()),
        budget_(options_.memory_budget_bytes),
        metrics_(registry) {
    if (options_.cpu_threads <= 0) {
      options_.cpu_threads = std::max(1u, std::thread::hardware_concurrency());
    }
    metrics_.budget_bytes.WithLabels({}).Set(static_cast<double>(budget_.capacity()));
    registry->AddCollector([this] {
      metrics_.budget_used.WithLabels({}).Set(static_cast<double>(budget_.used()));
      metrics_.budget_peak.WithLabels({}).Set(static_cast<double>(budget_.peak()));
    });
  }

  ~Impl() { Shutdown(); }

  Status Init() {
    std::vector<std::string> errors;
    for (auto& cfg : ScanModelRepository(options_.model_dir, &errors)) {
      if (backends_->Find(cfg.backend) == nullptr) {
        errors.push_back(cfg.name + ": unknown backend '" + cfg.backend + "'");
        continue;
      }
      std::string name = cfg.name;
      models_[name] = std::make_unique<ModelRuntime>(std::move(cfg), &budget_, &metrics_, clock_);
    }
    for (const auto& e : errors) SEGHUB_LOG_ERROR("model repository: {}", e);
    SEGHUB_LOG_INFO("model repository {}: {} model(s)", options_.model_dir.string(),
                    models_.size());
    return Status::Ok();
  }

  void Start() {
    loader_ = std::thread([this] { LoaderLoop(); });
    if (options_.load_all) {
      for (const auto& [name, rt] : models_) ScheduleLoad(name);
    }
    ScheduleLoad("");  // marker: initial loading done
  }

  bool Ready() const {
    std::lock_guard<std::mutex> lock(loader_mu_);
    return started_ && !shutting_down_;
  }

  bool WaitReady(std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(loader_mu_);
    loader_cv_.wait_for(lock, timeout, [this] { return started_ || shutting_down_; });
    return started_ && !shutting_down_;
  }

  Status Submit(InferRequest request, DoneCallback done) {
    auto it = models_.find(request.model);
    if (it == models_.end()) return NotFound("unknown model '" + request.model + "'");
    {
      std::lock_guard<std::mutex> lock(loader_mu_);
      if (shutting_down_) return Unavailable("engine is shutting down");
    }
    ModelRuntime& rt = *it->second;
    SEGHUB_RETURN_IF_ERROR(rt.Enqueue(std::move(request), std::move(done)));
    if (rt.state() == ModelState::kUnloaded) ScheduleLoad(rt.config().name);
    return Status::Ok();
  }

  Status LoadModel(const std::string& name) {
    auto it = models_.find(name);
    if (it == models_.end()) return NotFound("unknown model '" + name + "'");
    std::lock_guard<std::mutex> lock(load_mu_);
    ModelRuntime& rt = *it->second;
    if (rt.state() == ModelState::kReady) return Status::Ok();
    MakeRoomFor(rt);
    Status s = rt.Load(backends_->Find(rt.config().backend), options_.cpu_threads, options_.warmup);
    if (s.code() == StatusCode::kResourceExhausted && EvictLeastRecentlyUsed(&rt)) {
      s = rt.Load(backends_->Find(rt.config().backend), options_.cpu_threads, options_.warmup);
    }
    return s;
  }

  Status UnloadModel(const std::string& name) {
    auto it = models_.find(name);
    if (it == models_.end()) return NotFound("unknown model '" + name + "'");
    std::lock_guard<std::mutex> lock(load_mu_);
    if (it->second->state() != ModelState::kReady) return Status::Ok();
    if (!it->second->Unload("requested", /*only_if_idle=*/true)) {
      return FailedPrecondition("model " + name + " has queued or running requests");
    }
    return Status::Ok();
  }

  std::vector<ModelStatus> ListModels() const {
    std::vector<ModelStatus> out;
    for (const auto& [name, rt] : models_) out.push_back(rt->Describe());
    return out;
  }

  Result<ModelStatus> GetModel(const std::string& name) const {
    auto it = models_.find(name);
    if (it == models_.end()) return NotFound("unknown model '" + name + "'");
    return it->second->Describe();
  }

  void Shutdown() {
    {
      std::lock_guard<std::mutex> lock(loader_mu_);
      if (shutting_down_ && !loader_.joinable()) return;
      shutting_down_ = true;
    }
    loader_cv_.notify_all();
    if (loader_.joinable()) loader_.join();
    std::lock_guard<std::mutex> lock(load_mu_);
    for (auto& [name, rt] : models_) rt->Unload("engine shutting down");
  }

  MemoryBudget& budget() { return budget_; }

 private:
  // Weights file size as the estimate of what a load will reserve.
  int64_t EstimateWeights(const ModelConfig& c) const {
    std::error_code ec;
    if (!c.has_weights()) return 0;
    auto size = std::filesystem::file_size(c.weights_path(), ec);
    return ec ? 0 : static_cast<int64_t>(size);
  }

  // Unloads least-recently-used idle models until `rt`'s weights (estimated) fit. Requires
  // load_mu_.
  void MakeRoomFor(const ModelRuntime& rt) {
    while (budget_.available() < EstimateWeights(rt.config()) && EvictLeastRecentlyUsed(&rt)) {
    }
  }

  // Unloads the idle loaded model used longest ago (never `keep`, never a busy one). Returns false
  // when there is none. Requires load_mu_.
  bool EvictLeastRecentlyUsed(const ModelRuntime* keep) {
    std::vector<ModelRuntime*> candidates;
    for (auto& [name, rt] : models_) {
      if (rt.get() != keep && rt->Idle()) candidates.push_back(rt.get());
    }
    std::sort(candidates.begin(), candidates.end(),
              [](ModelRuntime* a, ModelRuntime* b) { return a->last_used() < b->last_used(); });
    for (ModelRuntime* rt : candidates) {
      if (rt->Unload("least recently used; memory needed", /*only_if_idle=*/true)) return true;
    }
    return false;
  }

  void ScheduleLoad(const std::string& name) {
    {
      std::lock_guard<std::mutex> lock(loader_mu_);
      if (!name.empty() &&
          std::find(load_queue_.begin(), load_queue_.end(), name) != load_queue_.end()) {
        return;
      }
      load_queue_.push_back(name);
    }
    loader_cv_.notify_all();
  }

  void LoaderLoop() {
    while (true) {
      std::string name;
      {
        std::unique_lock<std::mutex> lock(loader_mu_);
        loader_cv_.wait(lock, [this] { return shutting_down_ || !load_queue_.empty(); });
        if (shutting_down_) return;
        name = load_queue_.front();
        load_queue_.pop_front();
      }
      if (name.empty()) {
        std::lock_guard<std::mutex> lock(loader_mu_);
        started_ = true;
        loader_cv_.notify_all();
        continue;
      }
      Status s = LoadModel(name);
      if (!s.ok()) SEGHUB_LOG_ERROR("loading model {}: {}", name, s.ToString());
    }
  }

  EngineOptions options_;
  const BackendRegistry* const backends_;
  const Clock* const clock_;
  MemoryBudget budget_;
  EngineMetrics metrics_;
  // Filled by Init() and never changed afterwards, so lookups need no lock.
  std::map<std::string, std::unique_ptr<ModelRuntime>> models_;

  std::mutex load_mu_;  // serialises loads, unloads and evictions

  mutable std::mutex loader_mu_;
  mutable std::condition_variable loader_cv_;
  std::deque<std::string> load_queue_;  // guarded by loader_mu_; "" = initial loading done
  bool started_ = false;                // guarded by loader_mu_
  bool shutting_down_ = false;          // guarded by loader_mu_
  std::thread loader_;
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() { Shutdown(); }

Result<std::unique_ptr<Engine>> Engine::Create(EngineOptions options,
                                               const BackendRegistry* backends,
                                               metrics::Registry* registry) {
  if (options.memory_budget_bytes <= 0) return InvalidArgument("memory budget must be > 0");
  auto impl = std::make_unique<Impl>(std::move(options), backends, registry);
  SEGHUB_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

void Engine::Start() { impl_->Start(); }
bool Engine::Ready() const { return impl_->Ready(); }
bool Engine::WaitReady(std::chrono::milliseconds t) const { return impl_->WaitReady(t); }
Status Engine::Submit(InferRequest r, DoneCallback d) {
  return impl_->Submit(std::move(r), std::move(d));
}

Result<InferResult> Engine::Infer(InferRequest request) {
  auto promise = std::make_shared<std::promise<Result<InferResult>>>();
  auto future = promise->get_future();
  Status s = Submit(std::move(request),
                    [promise](Result<InferResult> r) { promise->set_value(std::move(r)); });
  if (!s.ok()) return s;
  return future.get();
}

Status Engine::LoadModel(const std::string& name) { return impl_->LoadModel(name); }
Status Engine::UnloadModel(const std::string& name) { return impl_->UnloadModel(name); }
std::vector<ModelStatus> Engine::ListModels() const { return impl_->ListModels(); }
Result<ModelStatus> Engine::GetModel(const std::string& n) const { return impl_->GetModel(n); }
int64_t Engine::memory_used() const { return impl_->budget().used(); }
int64_t Engine::memory_peak() const { return impl_->budget().peak(); }
int64_t Engine::memory_budget() const { return impl_->budget().capacity(); }
void Engine::Shutdown() {
  if (impl_) impl_->Shutdown();
}

}  // namespace seghub::engine
