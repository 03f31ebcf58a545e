#include "pipeline/pd_service.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <future>
#include <mutex>
#include <span>
#include <utility>

namespace seghub::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

double MillisBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

Status Prefixed(const Status& s, const std::string& prefix) {
  return Status(s.code(), prefix + s.message());
}

// Per model.json output.activation. "auto" is the Hub's rule, decided over the whole request so
// every signal is treated alike: sigmoid only when some value lies outside [0, 1].
void ApplyActivation(const std::string& activation,
                     std::vector<std::vector<std::vector<double>>>* outputs) {
  bool sigmoid = activation == "sigmoid";
  if (activation == "auto") {
    for (const auto& signal : *outputs) {
      for (const auto& window : signal) {
        for (double v : window) sigmoid = sigmoid || v < 0.0 || v > 1.0;
      }
    }
  }
  if (!sigmoid) return;
  for (auto& signal : *outputs) {
    for (auto& window : signal) {
      for (double& v : window) v = 1.0 / (1.0 + std::exp(-v));
    }
  }
}

// Folds each signal's second half of windows (the negated inputs' probabilities) into the first.
void AverageNegatedPasses(std::vector<std::vector<std::vector<double>>>* outputs) {
  for (auto& signal : *outputs) {
    const size_t n = signal.size() / 2;
    for (size_t w = 0; w < n; ++w) {
      for (size_t i = 0; i < signal[w].size(); ++i) {
        signal[w][i] = 0.5 * (signal[w][i] + signal[n + w][i]);
      }
    }
    signal.resize(n);
  }
}

}  // namespace

// Everything one request needs while its windows are in the engine. Shared by the callbacks;
// each window callback writes only its own outputs[s][w] slot, and the atomic countdown orders
// those writes before Complete() reads them.
struct PdService::Job {
  PdRequest request;
  PdDone done;
  std::string activation = "sigmoid";
  // 2 when the model averages over the negated input (output.average_negated): window w of a
  // signal with n windows has its negated twin in slot n + w.
  size_t passes = 1;
  std::vector<std::vector<double>> filtered;              // per signal
  std::vector<std::vector<size_t>> starts;                // per signal
  std::vector<std::vector<std::vector<double>>> outputs;  // per signal, per window and pass
  std::shared_ptr<engine::CancelToken> cancel;
  std::atomic<size_t> remaining{0};
  std::atomic<int64_t> batch_size_sum{0};
  std::atomic<int> max_batch_size{0};
  std::mutex mu;
  Status error;  // first failure; guarded by mu
  Clock::time_point received, preprocessed, inferred;
  size_t num_windows = 0;

  void Fail(const Status& s) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (error.ok()) error = s;
    }
    cancel->Cancel();  // windows not started yet need not run
  }
};

PdService::PdService(engine::Engine* engine, std::string model, TaskPool* pool,
                     PdServiceOptions options)
    : engine_(engine), model_(std::move(model)), pool_(pool), options_(options) {}

Status PdService::Analyse(PdRequest request, PdDone done) const {
  if (request.signals.empty()) return InvalidArgument("no signals in the request");
  if (request.signals.size() > options_.max_signals) {
    return InvalidArgument("too many signals: " + std::to_string(request.signals.size()) +
                           " (at most " + std::to_string(options_.max_signals) + ")");
  }
  auto job = std::make_shared<Job>();
  job->received = Clock::now();
  job->cancel = request.cancel ? request.cancel : std::make_shared<engine::CancelToken>();
  job->request = std::move(request);
  job->done = std::move(done);
  if (pool_ == nullptr) {
    Start(std::move(job));
    return Status::Ok();
  }
  return pool_->Post([this, job] { Start(job); });
}

Result<nlohmann::json> PdService::AnalyseBlocking(PdRequest request) const {
  auto promise = std::make_shared<std::promise<Result<nlohmann::json>>>();
  auto future = promise->get_future();
  SEGHUB_RETURN_IF_ERROR(Analyse(std::move(request), [promise](Result<nlohmann::json> r) {
    promise->set_value(std::move(r));
  }));
  return future.get();
}

void PdService::Start(std::shared_ptr<Job> job) const {
  auto model = engine_->GetModel(model_);
  if (!model.ok()) {
    job->done(model.status());
    return;
  }
  job->activation = model->config.output.activation;
  job->passes = model->config.output.average_negated ? 2 : 1;
  const engine::PostprocessSpec& post = model->config.postprocess;
  job->request.regions.merge_gap =
      job->request.merge_gap.value_or(static_cast<size_t>(post.merge_gap));
  job->request.regions.min_length =
      job->request.min_length.value_or(static_cast<size_t>(post.min_length));
  const size_t n_signals = job->request.signals.size();
  job->filtered.resize(n_signals);
  job->starts.resize(n_signals);
  job->outputs.resize(n_signals);
  for (size_t s = 0; s < n_signals; ++s) {
    const std::string where = "signal " + std::to_string(s) + ": ";
    auto filtered = signals::Preprocess(job->request.signals[s], job->request.preprocess);
    if (!filtered.ok()) return job->done(Prefixed(filtered.status(), where));
    auto starts = signals::MakeWindows(filtered->size(), options_.window, options_.overlap);
    if (!starts.ok()) return job->done(Prefixed(starts.status(), where));
    job->filtered[s] = std::move(filtered).value();
    job->starts[s] = std::move(starts).value();
    job->outputs[s].resize(job->starts[s].size() * job->passes);
    job->num_windows += job->starts[s].size();
  }
  job->preprocessed = Clock::now();
  SubmitWindows(job);
}

void PdService::SubmitWindows(const std::shared_ptr<Job>& job) const {
  const size_t total = job->num_windows * job->passes;
  job->remaining.store(total);
  const size_t window = options_.window;
  size_t submitted = 0;
  for (size_t s = 0; s < job->starts.size(); ++s) {
    std::vector<float> batch =
        signals::ExtractWindowBatch(job->filtered[s], job->starts[s], window);
    const size_t n = job->starts[s].size();
    if (job->passes == 2) {
      batch.resize(2 * batch.size());
      std::transform(batch.begin(), batch.begin() + n * window, batch.begin() + n * window,
                     [](float v) { return -v; });
    }
    for (size_t w = 0; w < n * job->passes; ++w) {
      engine::InferRequest req;
      req.model = model_;
      req.client_id = job->request.client_id;
      req.priority = job->request.priority;
      req.deadline = job->request.deadline;
      req.cancel = job->cancel;
      req.input.shape = {1, static_cast<int64_t>(window)};
      req.input.data.assign(batch.begin() + w * window, batch.begin() + (w + 1) * window);
      Status st =
          engine_->Submit(std::move(req), [this, job, s, w, window](Result<engine::InferResult> r) {
            if (!r.ok()) {
              job->Fail(r.status());
            } else if (r->output.data.size() != window) {
              job->Fail(Internal("model returned " + std::to_string(r->output.data.size()) +
                                 " values for a window of " + std::to_string(window)));
            } else {
              job->outputs[s][w].assign(r->output.data.begin(), r->output.data.end());
              job->batch_size_sum.fetch_add(r->batch_size);
              int seen = job->max_batch_size.load();
              while (r->batch_size > seen &&
                     !job->max_batch_size.compare_exchange_weak(seen, r->batch_size)) {
              }
            }
            OnWindowDone(job);
          });
      if (!st.ok()) {
        // Submit refused (queue full, model failed): the windows never submitted count as done
        // now; those already in the engine are cancelled and still call back.
        job->Fail(st);
        const size_t unsubmitted = total - submitted;
        if (job->remaining.fetch_sub(unsubmitted) == unsubmitted) Finish(job);
        return;
      }
      ++submitted;
    }
  }
}

void PdService::OnWindowDone(const std::shared_ptr<Job>& job) const {
  if (job->remaining.fetch_sub(1) == 1) Finish(job);
}

void PdService::Finish(const std::shared_ptr<Job>& job) const {
  job->inferred = Clock::now();
  // Post-processing is admitted work: it must run even when the pool's queue is full.
  if (pool_ != nullptr && pool_->PostAdmitted([this, job] { Complete(job); }).ok()) return;
  Complete(job);
}

void PdService::Complete(const std::shared_ptr<Job>& job) const {
  {
    std::lock_guard<std::mutex> lock(job->mu);
    if (!job->error.ok()) return job->done(job->error);
  }
  ApplyActivation(job->activation, &job->outputs);
  if (job->passes == 2) AverageNegatedPasses(&job->outputs);
  nlohmann::json out_signals = nlohmann::json::array();
  for (size_t s = 0; s < job->outputs.size(); ++s) {
    const std::string where = "signal " + std::to_string(s) + ": ";
    signals::SignalResult result;
    result.signal_index = s;
    result.sample_rate_hz = job->request.regions.sample_rate_hz;
    result.raw = std::move(job->request.signals[s]);
    result.filtered = std::move(job->filtered[s]);
    auto prob = signals::Stitch(job->outputs[s], job->starts[s], result.raw.size());
    if (!prob.ok()) return job->done(Prefixed(prob.status(), where));
    job->outputs[s].clear();
    result.probability = std::move(prob).value();
    result.noise_sigma = signals::NoiseSigma(result.filtered);
    auto regions = signals::FindRegions(result.probability, result.filtered, result.noise_sigma,
                                        job->request.regions);
    if (!regions.ok()) return job->done(Prefixed(regions.status(), where));
    result.regions = std::move(regions).value();
    auto json = signals::SignalResultToJson(result, job->request.max_points);
    if (!json.ok()) return job->done(Prefixed(json.status(), where));
    out_signals.push_back(std::move(json).value());
  }
  const auto now = Clock::now();
  const double mean_batch = job->num_windows ? static_cast<double>(job->batch_size_sum.load()) /
                                                   (job->num_windows * job->passes)
                                             : 0.0;
  nlohmann::json out = {{"model", model_},
                        {"num_signals", out_signals.size()},
                        {"num_windows", job->num_windows},
                        {"average_negated", job->passes == 2},
                        {"window", options_.window},
                        {"mean_batch_size", mean_batch},
                        {"max_batch_size", job->max_batch_size.load()},
                        {"timing_ms",
                         {{"preprocess", MillisBetween(job->received, job->preprocessed)},
                          {"inference", MillisBetween(job->preprocessed, job->inferred)},
                          {"postprocess", MillisBetween(job->inferred, now)},
                          {"total", MillisBetween(job->received, now)}}},
                        {"signals", std::move(out_signals)}};
  job->done(std::move(out));
}

}  // namespace seghub::pipeline
