#include "tools/bench_command.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

#include "common/logging.h"
#include "engine/engine.h"
#include "engine/tuner.h"
#include "tools/bench_load.h"
#include "tools/engine_setup.h"
#ifdef SEGHUB_WITH_TORCH
#include "engine/torch/torch_backend.h"
#endif

namespace seghub::tools {
namespace {

using engine::Engine;
using engine::InferRequest;

struct BenchOptions {
  std::vector<int> features = {32, 64, 128, 256, 512};
  int in_channels = 3;
  int size = 256;
  double seconds = 8;
  std::vector<int> clients = {1, 8, 32};
  std::vector<int> batches = {1, 2, 4, 8};
  int threads = 0;
  std::string json_out;
  std::string log_level = "warn";
};

struct LoadResult {
  int clients = 0;
  double throughput = 0;  // samples/s
  double p50_ms = 0, p99_ms = 0;
  int max_batch_seen = 0;
};

// Closed-loop clients (bench_load.h); also records the largest batch the engine formed.
LoadResult RunClients(Engine& eng, const std::string& model, const engine::Shape& shape,
                      int clients, double seconds) {
  std::vector<engine::Tensor> inputs;
  for (int c = 0; c < clients; ++c) {
    engine::Tensor x = engine::Tensor::Zeros(shape);
    for (size_t i = 0; i < x.data.size(); ++i) {
      x.data[i] = static_cast<float>((i * 7 + c) % 13) / 13;
    }
    inputs.push_back(std::move(x));
  }
  std::atomic<int> max_batch{0};
  LoadStats stats = RunClosedLoop(clients, seconds, [&](int c) -> Status {
    InferRequest r;
    r.model = model;
    r.client_id = "client-" + std::to_string(c);
    r.input = inputs[static_cast<size_t>(c)];
    auto out = eng.Infer(std::move(r));
    if (!out.ok()) return out.status();
    int b = out->batch_size, m = max_batch.load();
    while (b > m && !max_batch.compare_exchange_weak(m, b)) {
    }
    return Status::Ok();
  });
  if (!stats.first_error.ok()) {
    SEGHUB_LOG_ERROR("bench request failed: {}", stats.first_error.ToString());
  }
  LoadResult r;
  r.clients = clients;
  r.throughput = stats.per_second;
  r.p50_ms = stats.p50_ms;
  r.p99_ms = stats.p99_ms;
  r.max_batch_seen = max_batch.load();
  return r;
}

Result<engine::ModelConfig> WriteBenchModel(const std::filesystem::path& dir,
                                            const BenchOptions& o) {
  std::filesystem::create_directories(dir);
  nlohmann::json j = {
      {"name", dir.filename().string()},
      {"backend", "torch"},
      {"format", "seghub"},
      {"architecture", "unet"},
      {"arch_params",
       {{"features", o.features}, {"in_channels", o.in_channels}, {"out_channels", 1}}},
      {"input", {{"channels", o.in_channels}}},
      {"reference_shape", {o.in_channels, o.size, o.size}},
      {"batching",
       {{"max_batch_size", *std::max_element(o.batches.begin(), o.batches.end())},
        {"max_queue_delay_us", 2000}}}};
  std::ofstream(dir / "model.json") << j.dump(2);
  return engine::LoadModelConfig(dir / "model.json");
}

int RunBench(const BenchOptions& o) {
  InitLogging(o.log_level);
#ifndef SEGHUB_WITH_TORCH
  std::fprintf(stderr, "seghub bench needs the LibTorch backend (built with SEGHUB_WITH_TORCH)\n");
  return 1;
#endif
  engine::BackendRegistry backends;
  RegisterBackends(&backends, /*log_blas=*/false);
  auto root =
      std::filesystem::temp_directory_path() / ("seghub_bench_" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  auto cfg = WriteBenchModel(root / "unet", o);
  if (!cfg.ok()) {
    std::fprintf(stderr, "bench: %s\n", cfg.status().ToString().c_str());
    return 1;
  }
  engine::Backend* torch = backends.Find("torch");
  std::printf("seghub bench: U-Net (Hub family) features [");
  for (size_t i = 0; i < o.features.size(); ++i) std::printf("%s%d", i ? "," : "", o.features[i]);
  std::printf("], %d input channel(s), %dx%d, %.0f s per point\n\n", o.in_channels, o.size, o.size,
              o.seconds);

  // 1. Raw backend throughput per layout and batch (frozen, optimised TorchScript graph), and the
  //    same network unfrozen for comparison. Measured back to back in this one run.
  engine::TuneOptions t;
  t.cpu_threads = o.threads;
  t.batch_sizes = o.batches;
  t.seconds_per_point = o.seconds / 2;
  auto raw = engine::TuneModel(*cfg, torch, t);
  if (!raw.ok()) {
    std::fprintf(stderr, "bench: %s\n", raw.status().ToString().c_str());
    return 1;
  }
  engine::TuneOptions t1 = t;
  t1.batch_sizes = {raw->best.batch_size};
#ifdef SEGHUB_WITH_TORCH
  engine::TorchBackendOptions unfrozen_options;
  unfrozen_options.freeze = false;
  auto unfrozen_backend = engine::MakeTorchBackend(unfrozen_options);
  auto unfrozen = engine::TuneModel(*cfg, unfrozen_backend.get(), t1);
#else
  Result<engine::TuneResult> unfrozen = Unimplemented("no torch");
#endif
  std::printf("raw forward (backend called directly, device %s):\n", raw->device.c_str());
  std::printf("  %-9s %-8s %-6s %12s %12s\n", "instances", "threads", "batch", "images/s",
              "ms/batch");
  for (const auto& p : raw->points) {
    std::printf("  %-9d %-8d %-6d %12.2f %12.1f\n", p.instances, p.threads_per_instance,
                p.batch_size, p.samples_per_second, p.batch_latency_ms);
  }
  const double raw_best = raw->best.samples_per_second;
  std::printf("  best: %d instance(s) x %d thread(s), batch %d: %.2f images/s\n",
              raw->best.instances, raw->best.threads_per_instance, raw->best.batch_size, raw_best);
  double unfrozen_rate = 0;
  for (const auto& p : unfrozen.ok() ? unfrozen->points : std::vector<engine::TunePoint>{}) {
    if (p.instances == raw->best.instances) unfrozen_rate = p.samples_per_second;
  }
  std::printf("  same layout, unfrozen TorchScript: %.2f images/s (frozen/unfrozen = %.2f)\n\n",
              unfrozen_rate, unfrozen_rate > 0 ? raw_best / unfrozen_rate : 0.0);

  // 2. The engine with the measured layout, under closed-loop concurrent clients.
  (void)engine::SaveTuning(*cfg, *raw);
  metrics::Registry registry;
  engine::EngineOptions eo;
  eo.model_dir = root;
  eo.cpu_threads = o.threads;
  auto eng = Engine::Create(eo, &backends, &registry);
  if (!eng.ok()) return 1;
  (*eng)->Start();
  (*eng)->WaitReady(std::chrono::minutes(5));
  std::printf("engine (tuned layout, dynamic batching, fair queue):\n");
  std::printf("  %-8s %12s %10s %10s %10s %14s\n", "clients", "images/s", "p50 ms", "p99 ms",
              "max batch", "engine/raw");
  nlohmann::json report = {{"raw", raw->ToJson()},
                           {"unfrozen_images_per_s", unfrozen_rate},
                           {"engine", nlohmann::json::array()}};
  const engine::Shape shape = {o.in_channels, o.size, o.size};
  for (int c : o.clients) {
    LoadResult r = RunClients(**eng, "unet", shape, c, o.seconds);
    std::printf("  %-8d %12.2f %10.1f %10.1f %10d %14.3f\n", c, r.throughput, r.p50_ms, r.p99_ms,
                r.max_batch_seen, r.throughput / raw_best);
    report["engine"].push_back({{"clients", c},
                                {"images_per_s", r.throughput},
                                {"p50_ms", r.p50_ms},
                                {"p99_ms", r.p99_ms},
                                {"max_batch", r.max_batch_seen},
                                {"ratio_to_raw", r.throughput / raw_best}});
  }
  (*eng)->Shutdown();
  if (!o.json_out.empty()) std::ofstream(o.json_out) << report.dump(2) << '\n';
  std::filesystem::remove_all(root);
  return 0;
}

}  // namespace

void AddBenchCommand(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Raw forward throughput vs engine throughput with concurrent clients (U-Net)");
  cmd->add_option("--features", o->features, "U-Net widths")->delimiter(',')->capture_default_str();
  cmd->add_option("--in-channels", o->in_channels, "Input channels")->capture_default_str();
  cmd->add_option("--size", o->size, "Square input size")->capture_default_str();
  cmd->add_option("--seconds", o->seconds, "Measuring time per point")->capture_default_str();
  cmd->add_option("--clients", o->clients, "Concurrent clients")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--batches", o->batches, "Batch sizes to measure")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "Compute threads (0 = all cores)")
      ->capture_default_str();
  cmd->add_option("--json", o->json_out, "Also write the figures to this JSON file");
  cmd->add_option("--log-level", o->log_level, "Log level")->capture_default_str();
  cmd->callback([o] {
    int rc = RunBench(*o);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

void AddTuneCommand(CLI::App& app) {
  struct TuneArgs {
    std::string models = "models";
    std::vector<std::string> only;
    double seconds = 3;
    double max_latency_ms = 0;
    int threads = 0;
  };
  auto a = std::make_shared<TuneArgs>();
  CLI::App* cmd = app.add_subcommand(
      "tune", "Measure each model's fastest batch size and instance layout on this device");
  cmd->add_option("--models", a->models, "Model repository")->capture_default_str();
  cmd->add_option("--model", a->only, "Only these models");
  cmd->add_option("--seconds", a->seconds, "Measuring time per point")->capture_default_str();
  cmd->add_option("--max-latency-ms", a->max_latency_ms, "Latency budget per batch (0 = none)");
  cmd->add_option("--threads", a->threads, "Compute threads (0 = all cores)");
  cmd->callback([a] {
    InitLogging("info");
    engine::BackendRegistry backends;
    RegisterBackends(&backends, /*log_blas=*/false);
    std::vector<std::string> errors;
    for (auto& cfg : engine::ScanModelRepository(a->models, &errors)) {
      if (!a->only.empty() &&
          std::find(a->only.begin(), a->only.end(), cfg.name) == a->only.end()) {
        continue;
      }
      engine::Backend* b = backends.Find(cfg.backend);
      if (b == nullptr) continue;
      engine::TuneOptions t;
      t.cpu_threads = a->threads;
      t.seconds_per_point = a->seconds;
      t.max_batch_latency_ms = a->max_latency_ms;
      auto r = engine::TuneModel(cfg, b, t);
      if (!r.ok() || !engine::SaveTuning(cfg, *r).ok()) {
        std::fprintf(stderr, "%s: %s\n", cfg.name.c_str(), r.status().ToString().c_str());
        throw CLI::RuntimeError(1);
      }
      std::printf("%s on %s: batch %d, %d instance(s) x %d thread(s): %.2f samples/s\n",
                  cfg.name.c_str(), r->device.c_str(), r->best.batch_size, r->best.instances,
                  r->best.threads_per_instance, r->best.samples_per_second);
    }
  });
}

}  // namespace seghub::tools
