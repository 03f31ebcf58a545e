#include "engine/tuner.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include "common/logging.h"

namespace seghub::engine {
namespace {

using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Runs `instances` instances concurrently, each looping over batches, for about `seconds`.
Result<TunePoint> MeasurePoint(LoadedModel* model, int instances, int batch, const Shape& sample,
                               double seconds) {
  std::vector<std::unique_ptr<ModelInstance>> insts;
  for (int i = 0; i < instances; ++i) {
    SEGHUB_ASSIGN_OR_RETURN(auto inst, model->CreateInstance(i));
    insts.push_back(std::move(inst));
  }
  Tensor one = Tensor::Zeros(sample);
  for (float& v : one.data) v = 0.5f;
  std::vector<const Tensor*> refs(static_cast<size_t>(batch), &one);
  const Tensor input = StackBatch(refs);
  for (auto& inst : insts) {  // warm-up: first run of a shape builds kernels
    auto r = inst->Run(input);
    if (!r.ok()) return r.status();
  }
  std::vector<std::vector<double>> lat(insts.size());
  std::vector<Status> errors(insts.size());
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < insts.size(); ++i) {
    threads.emplace_back([&, i] {
      do {
        auto t0 = Clock::now();
        auto r = insts[i]->Run(input);
        if (!r.ok()) {
          errors[i] = r.status();
          return;
        }
        lat[i].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      } while (Clock::now() < end || lat[i].size() < 2);
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors) SEGHUB_RETURN_IF_ERROR(e);
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  TunePoint p;
  p.instances = instances;
  p.batch_size = batch;
  std::vector<double> all;
  size_t batches = 0;
  for (auto& l : lat) {
    batches += l.size();
    all.insert(all.end(), l.begin(), l.end());
  }
  p.samples_per_second = static_cast<double>(batches * static_cast<size_t>(batch)) / elapsed;
  p.batch_latency_ms = Median(all);
  return p;
}

nlohmann::json PointJson(const TunePoint& p) {
  return {{"instances", p.instances},
          {"threads_per_instance", p.threads_per_instance},
          {"batch_size", p.batch_size},
          {"samples_per_second", p.samples_per_second},
          {"batch_latency_ms", p.batch_latency_ms}};
}

}  // namespace

nlohmann::json TuneResult::ToJson() const {
  nlohmann::json pts = nlohmann::json::array();
  for (const auto& p : points) pts.push_back(PointJson(p));
  return {{"device", device},
          {"sample_shape", sample_shape},
          {"best", PointJson(best)},
          {"points", pts}};
}

Result<TuneResult> TuneModel(const ModelConfig& config, Backend* backend, const TuneOptions& opts) {
  const int cores =
      opts.cpu_threads > 0 ? opts.cpu_threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<int> batches = opts.batch_sizes;
  if (batches.empty()) {
    for (int b = 1; b <= config.batching.max_batch_size; b *= 2) batches.push_back(b);
  }
  std::vector<int> layouts = {1};
  if (cores > 1) layouts.push_back(cores);  // one wide instance, or one narrow per core
  TuneResult result;
  result.sample_shape = config.reference_shape;
  for (int instances : layouts) {
    ModelConfig c = config;
    c.instance_count = instances;
    c.threads_per_instance = std::max(1, cores / instances);
    SEGHUB_ASSIGN_OR_RETURN(auto model, backend->Load(c));
    result.device = model->device();
    for (int b : batches) {
      auto p =
          MeasurePoint(model.get(), instances, b, config.reference_shape, opts.seconds_per_point);
      if (!p.ok()) {
        SEGHUB_LOG_WARN("tune {}: {} instance(s), batch {}: {}", config.name, instances, b,
                        p.status().ToString());
        continue;
      }
      p->threads_per_instance = c.threads_per_instance;
      SEGHUB_LOG_INFO(
          "tune {}: {} instance(s) x {} thread(s), batch {}: {:.2f} samples/s, "
          "{:.1f} ms/batch",
          config.name, instances, p->threads_per_instance, b, p->samples_per_second,
          p->batch_latency_ms);
      result.points.push_back(*p);
    }
  }
  if (result.points.empty()) return Internal("tuning measured nothing for " + config.name);
  result.best = result.points.front();
  for (const auto& p : result.points) {
    bool fits = opts.max_batch_latency_ms <= 0 || p.batch_latency_ms <= opts.max_batch_latency_ms;
    if (fits && p.samples_per_second > result.best.samples_per_second) result.best = p;
  }
  return result;
}

Status SaveTuning(const ModelConfig& config, const TuneResult& result) {
  const auto path = config.dir / "tuning.json";
  nlohmann::json all = nlohmann::json::object();
  if (std::ifstream in(path); in) {
    try {
      all = nlohmann::json::parse(in);
    } catch (const std::exception&) {
      all = nlohmann::json::object();  // unreadable: replace it
    }
  }
  all[result.device] = result.ToJson();
  std::ofstream out(path);
  if (!out) return Unavailable("cannot write " + path.string());
  out << all.dump(2) << '\n';
  return Status::Ok();
}

bool ApplyTuning(const std::string& device, ModelConfig* config) {
  std::ifstream in(config->dir / "tuning.json");
  if (!in) return false;
  try {
    auto all = nlohmann::json::parse(in);
    if (!all.contains(device)) return false;
    const auto& best = all[device]["best"];
    config->batching.max_batch_size = best.at("batch_size").get<int>();
    config->batching.preferred_batch_sizes = {config->batching.max_batch_size};
    config->instance_count = best.at("instances").get<int>();
    config->threads_per_instance = best.at("threads_per_instance").get<int>();
    return true;
  } catch (const std::exception& e) {
    SEGHUB_LOG_WARN("{}: ignoring unreadable tuning.json: {}", config->name, e.what());
    return false;
  }
}

}  // namespace seghub::engine
