#include "tools/pd_command.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "engine/test_backend.h"
#include "metrics/metrics.h"
#include "pipeline/pd_service.h"
#include "signals/signal_io.h"
#include "signals/synthetic.h"
#if defined(SEGHUB_WITH_TORCH) && SEGHUB_WITH_TORCH
#include "engine/torch/torch_backend.h"
#endif

namespace seghub::tools {
namespace {

struct PdArgs {
  std::vector<std::string> files;
  std::string models_dir = "./models";
  std::string model = "pd_unet1d";
  std::string format = "auto";
  std::string csv_layout = "rows";
  int threads = 0;
  pipeline::PdRequest request;  // thresholds etc.; signals filled per file
  bool compact = false;
};

signals::SignalFormat ToFormat(const std::string& f) {
  if (f == "npy") return signals::SignalFormat::kNpy;
  if (f == "csv") return signals::SignalFormat::kCsv;
  if (f == "raw") return signals::SignalFormat::kRawFloat32;
  return signals::SignalFormat::kAuto;
}

// The engine with only the PD model loaded, for in-process commands. Destroyed in reverse order:
// the engine (which joins its threads) before the backends and the registry it uses.
struct InProcessEngine {
  metrics::Registry registry;
  engine::BackendRegistry backends;
  std::unique_ptr<engine::Engine> engine;
};

Result<std::unique_ptr<InProcessEngine>> StartEngine(const std::string& models_dir,
                                                     const std::string& model, int threads) {
  auto e = std::make_unique<InProcessEngine>();
  e->backends.Register(engine::MakeTestBackend());
#if defined(SEGHUB_WITH_TORCH) && SEGHUB_WITH_TORCH
  e->backends.Register(engine::MakeTorchBackend());
#endif
  engine::EngineOptions eo;
  eo.model_dir = models_dir;
  eo.cpu_threads = threads;
  eo.load_all = false;  // only the PD model, loaded below
  SEGHUB_ASSIGN_OR_RETURN(e->engine, engine::Engine::Create(eo, &e->backends, &e->registry));
  e->engine->Start();
  SEGHUB_RETURN_IF_ERROR(e->engine->LoadModel(model));
  return e;
}

// Reads every file, submits them all at once (their windows batch together), prints the results
// in file order: one JSON object for one file, an array for several.
Status RunAnalyze(const PdArgs& args) {
  SEGHUB_ASSIGN_OR_RETURN(auto in_process, StartEngine(args.models_dir, args.model, args.threads));
  engine::Engine* pd_engine = in_process->engine.get();
  pipeline::PdService service(pd_engine, args.model);
  signals::CsvOptions csv;
  csv.layout =
      args.csv_layout == "columns" ? signals::CsvLayout::kColumns : signals::CsvLayout::kRows;
  std::vector<std::future<Result<nlohmann::json>>> results;
  for (const auto& file : args.files) {
    pipeline::PdRequest request = args.request;
    auto read = signals::ReadSignalFile(file, ToFormat(args.format), csv);
    if (!read.ok()) return Status(read.status().code(), file + ": " + read.status().message());
    request.signals = std::move(read).value();
    auto promise = std::make_shared<std::promise<Result<nlohmann::json>>>();
    results.push_back(promise->get_future());
    Status st = service.Analyse(std::move(request), [promise](Result<nlohmann::json> r) {
      promise->set_value(std::move(r));
    });
    if (!st.ok()) return Status(st.code(), file + ": " + st.message());
  }
  nlohmann::json all = nlohmann::json::array();
  for (size_t i = 0; i < results.size(); ++i) {
    auto r = results[i].get();
    if (!r.ok()) return Status(r.status().code(), args.files[i] + ": " + r.status().message());
    nlohmann::json j = {{"file", args.files[i]}};
    j.update(*r);
    all.push_back(std::move(j));
  }
  pd_engine->Shutdown();
  const nlohmann::json& out = all.size() == 1 ? all[0] : all;
  std::cout << (args.compact ? out.dump() : out.dump(2)) << std::endl;
  return Status::Ok();
}

struct BenchArgs {
  std::string models_dir = "./models";
  std::string model = "pd_unet1d";
  size_t length = 800000;
  std::vector<int> clients = {1, 8};
  int signals_per_client = 2;
  std::string mode = "both";  // batched, sequential or both
  int threads = 0;
};

// The original service's way: one window per forward, each waiting for the previous one. With
// `negated` (the model's output.average_negated) each window also runs negated, as the batched
// path does, so both modes do the same work.
Status AnalyseOneWindowAtATime(engine::Engine* pd_engine, const std::string& model, bool negated,
                               const std::vector<double>& raw) {
  const signals::WindowModel one_by_one = [&](const std::vector<float>& batch, size_t n,
                                              size_t window) -> Result<std::vector<float>> {
    std::vector<float> out(batch.size(), 0.0f);
    const int passes = negated ? 2 : 1;
    const float weight = 1.0f / passes;
    for (size_t w = 0; w < n; ++w) {
      for (int pass = 0; pass < passes; ++pass) {
        const float sign = pass == 0 ? 1.0f : -1.0f;
        engine::InferRequest r;
        r.model = model;
        r.input.shape = {1, static_cast<int64_t>(window)};
        r.input.data.assign(batch.begin() + w * window, batch.begin() + (w + 1) * window);
        for (float& v : r.input.data) v *= sign;
        SEGHUB_ASSIGN_OR_RETURN(engine::InferResult result, pd_engine->Infer(std::move(r)));
        for (size_t i = 0; i < window; ++i) {
          out[w * window + i] += weight / (1.0f + std::exp(-result.output.data[i]));
        }
      }
    }
    return out;
  };
  return signals::AnalyseSignal(raw, one_by_one).status();
}

// `clients` threads each analyse `signals_per_client` signals, one request at a time.
Result<nlohmann::json> BenchRun(engine::Engine* pd_engine, const BenchArgs& args, int clients,
                                bool batched, const std::vector<double>& signal) {
  pipeline::PdService service(pd_engine, args.model);
  SEGHUB_ASSIGN_OR_RETURN(engine::ModelStatus info, pd_engine->GetModel(args.model));
  const bool negated = info.config.output.average_negated;
  std::vector<std::thread> threads;
  std::mutex mu;
  Status first_error;
  std::vector<double> latencies;
  const auto start = std::chrono::steady_clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      for (int i = 0; i < args.signals_per_client; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        Status st;
        if (batched) {
          pipeline::PdRequest request;
          request.signals = {signal};
          st = service.AnalyseBlocking(std::move(request)).status();
        } else {
          st = AnalyseOneWindowAtATime(pd_engine, args.model, negated, signal);
        }
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::lock_guard<std::mutex> lock(mu);
        if (!st.ok() && first_error.ok()) first_error = st;
        latencies.push_back(s);
      }
    });
  }
  for (auto& t : threads) t.join();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  SEGHUB_RETURN_IF_ERROR(first_error);
  std::sort(latencies.begin(), latencies.end());
  const int n = clients * args.signals_per_client;
  return nlohmann::json{{"mode", batched ? "batched" : "one_window_at_a_time"},
                        {"clients", clients},
                        {"signals", n},
                        {"signal_length", args.length},
                        {"wall_s", wall},
                        {"signals_per_s", n / wall},
                        {"latency_p50_s", latencies[latencies.size() / 2]},
                        {"latency_max_s", latencies.back()}};
}

Status RunBench(const BenchArgs& args) {
  SEGHUB_ASSIGN_OR_RETURN(auto in_process, StartEngine(args.models_dir, args.model, args.threads));
  signals::SyntheticOptions so;
  so.length = args.length;
  so.seed = 7;
  SEGHUB_ASSIGN_OR_RETURN(signals::SyntheticSignal synthetic, signals::GenerateSynthetic(so));
  for (bool batched : {true, false}) {
    if (args.mode != "both" && (args.mode == "batched") != batched) continue;
    for (int clients : args.clients) {
      SEGHUB_ASSIGN_OR_RETURN(nlohmann::json line, BenchRun(in_process->engine.get(), args, clients,
                                                            batched, synthetic.signal));
      std::cout << line.dump() << std::endl;
    }
  }
  in_process->engine->Shutdown();
  return Status::Ok();
}

void AddBenchSubcommand(CLI::App* pd) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* bench = pd->add_subcommand(
      "bench", "Signals/s on synthetic signals: batched windows vs one window at a time");
  bench->add_option("--models", args->models_dir, "Model repository");
  bench->add_option("--model", args->model, "PD model name in the repository");
  bench->add_option("--length", args->length, "Samples per signal")->check(CLI::Range(13, 1 << 26));
  bench->add_option("--clients", args->clients, "Concurrent client counts to measure");
  bench->add_option("--signals-per-client", args->signals_per_client, "Requests per client");
  bench->add_option("--mode", args->mode, "batched, sequential or both")
      ->check(CLI::IsMember({"batched", "sequential", "both"}));
  bench->add_option("--threads", args->threads, "Compute threads (0 = all cores)");
  bench->callback([args] {
    Status s = RunBench(*args);
    if (!s.ok()) {
      std::cerr << "error: " << s.ToString() << "\n";
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace

void AddPdCommand(CLI::App& app) {
  auto args = std::make_shared<PdArgs>();
  CLI::App* pd = app.add_subcommand("pd", "Partial-discharge signal analysis");
  pd->require_subcommand(1);
  CLI::App* analyze =
      pd->add_subcommand("analyze", "Find PD regions in signal files (.npy, .csv, raw float32)");
  analyze->add_option("files", args->files, "Signal files")->required()->check(CLI::ExistingFile);
  analyze->add_option("--models", args->models_dir, "Model repository");
  analyze->add_option("--model", args->model, "PD model name in the repository");
  analyze->add_option("--format", args->format, "File format")
      ->check(CLI::IsMember({"auto", "npy", "csv", "raw"}));
  analyze->add_option("--csv-layout", args->csv_layout, "One signal per CSV row or column")
      ->check(CLI::IsMember({"rows", "columns"}));
  analyze->add_option("--sample-rate", args->request.regions.sample_rate_hz, "Hz (fills *_s)");
  analyze
      ->add_option("--threshold", args->request.regions.probability_threshold,
                   "Probability threshold")
      ->check(CLI::Range(0.0, 1.0));
  analyze
      ->add_option("--min-amplitude", args->request.regions.min_peak_amplitude,
                   "Drop regions whose peak |filtered| is below this")
      ->check(CLI::Range(0.0, 1.0));
  analyze
      ->add_option("--min-snr", args->request.regions.min_snr,
                   "Drop regions whose peak |filtered| is below this many noise sigmas (0 = off)")
      ->check(CLI::NonNegativeNumber);
  analyze->add_option_function<size_t>(
      "--merge-gap", [args](size_t v) { args->request.merge_gap = v; },
      "Join regions separated by at most this many samples (default: the model's)");
  analyze->add_option_function<size_t>(
      "--min-length", [args](size_t v) { args->request.min_length = v; },
      "Drop regions shorter than this many samples (default: the model's)");
  analyze->add_option("--clip", args->request.preprocess.clip, "Clip raw values (0 = off)");
  analyze->add_option("--max-points", args->request.max_points, "Points per plot series")
      ->check(CLI::Range(2, 10000000));
  analyze->add_option("--threads", args->threads, "Compute threads (0 = all cores)");
  analyze->add_flag("--compact", args->compact, "One-line JSON");
  AddBenchSubcommand(pd);
  analyze->callback([args] {
    Status s = RunAnalyze(*args);
    if (!s.ok()) {
      std::cerr << "error: " << s.ToString() << "\n";
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace seghub::tools
