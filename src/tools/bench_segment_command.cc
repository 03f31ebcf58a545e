#include "tools/bench_segment_command.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "api/http_server.h"
#include "api/hub_routes.h"
#include "api/router.h"
#include "common/logging.h"
#include "pipeline/segment_service.h"
#include "tools/bench_http_client.h"
#include "tools/bench_image.h"
#include "tools/bench_load.h"
#include "tools/build_info.h"
#include "tools/engine_setup.h"

namespace seghub::tools {
namespace {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

struct BenchSegmentOptions {
  std::string models = "models";
  std::string model = "unet_spherohq";
  std::string image;           // empty: synthetic
  int size = 1024;             // the image is resized to size x size; 0 keeps it as it is
  std::string encode = "png";  // format of the resized upload: png or jpeg
  double seconds = 5;
  std::vector<int> clients = {1, 8};
  int threads = 0;
  int io_threads = 2;
  std::string json_out;
  std::string log_level = "warn";
};

struct RawPoint {
  LoadStats load;
  double compute_ms = 0;  // model compute per image: batch compute time / batch size, summed
  int max_batch = 0;
};

// Per-client accumulators; each client thread touches only its own slot.
struct ComputeSlot {
  double compute_ms = 0;
  int64_t images = 0;
  int max_batch = 0;
};

// One "image" on the raw path: every input of the image submitted at once (as SegmentService
// does, up to its in-flight cap), then wait for all of them.
Status SubmitImage(engine::Engine& eng, const std::string& model, const std::string& client,
                   const std::vector<engine::Tensor>& inputs, ComputeSlot* slot) {
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    size_t left;
    Status error;
    double compute_ms = 0;
    int max_batch = 0;
  };
  auto w = std::make_shared<Wait>();
  w->left = inputs.size();
  for (const engine::Tensor& x : inputs) {
    engine::InferRequest r;
    r.model = model;
    r.client_id = client;
    r.input = x;
    Status s = eng.Submit(std::move(r), [w](Result<engine::InferResult> out) {
      std::lock_guard<std::mutex> lock(w->mu);
      if (!out.ok()) {
        if (w->error.ok()) w->error = out.status();
      } else {
        const int b = std::max(1, out->batch_size);
        w->compute_ms += std::chrono::duration<double, std::milli>(out->compute_time).count() / b;
        w->max_batch = std::max(w->max_batch, b);
      }
      if (--w->left == 0) w->cv.notify_all();
    });
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(w->mu);
      if (w->error.ok()) w->error = s;
      if (--w->left == 0) w->cv.notify_all();
    }
  }
  std::unique_lock<std::mutex> lock(w->mu);
  w->cv.wait(lock, [&] { return w->left == 0; });
  if (!w->error.ok()) return w->error;
  slot->compute_ms += w->compute_ms;
  slot->max_batch = std::max(slot->max_batch, w->max_batch);
  ++slot->images;
  return Status::Ok();
}

RawPoint RunRaw(engine::Engine& eng, const std::string& model,
                const std::vector<engine::Tensor>& inputs, int clients, double seconds) {
  std::vector<ComputeSlot> slots(static_cast<size_t>(clients));
  auto one = [&](int c) {
    return SubmitImage(eng, model, "bench-" + std::to_string(c), inputs,
                       &slots[static_cast<size_t>(c)]);
  };
  RunClosedLoop(clients, 0, one);  // warm-up: one image per client
  slots.assign(slots.size(), ComputeSlot{});
  RawPoint p;
  p.load = RunClosedLoop(clients, seconds, one);
  double sum = 0;
  int64_t n = 0;
  for (const auto& s : slots) {
    sum += s.compute_ms;
    n += s.images;
    p.max_batch = std::max(p.max_batch, s.max_batch);
  }
  p.compute_ms = n > 0 ? sum / static_cast<double>(n) : 0;
  return p;
}

struct OverheadPoint {
  int64_t images = 0;
  double preprocess_ms = 0, decode_ms = 0, postprocess_ms = 0, json_ms = 0, inference_ms = 0;
  double queue_ms = 0;
  double total_ms = 0;
  double polygons = 0;
  size_t json_bytes = 0;
  Status error;
};

// One client through SegmentService (no HTTP): the service's own stage timings, plus the Hub JSON
// serialisation that the HTTP route does, timed here because the service does not do it.
OverheadPoint RunOverhead(pipeline::SegmentService& service, const std::string& model,
                          const std::string& bytes, double seconds) {
  OverheadPoint p;
  auto one = [&](int) -> Status {
    pipeline::SegmentRequest req;
    req.model = model;
    req.client_id = "bench-overhead";
    SEGHUB_ASSIGN_OR_RETURN(pipeline::SegmentResult r, service.SegmentSync(bytes, req));
    const auto t0 = SteadyClock::now();
    const std::string body = pipeline::SegmentResultToHubJson(r).dump();
    p.json_ms += std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
    p.preprocess_ms += r.timing.preprocessing_s * 1e3;
    p.decode_ms += r.timing.decode_s * 1e3;
    p.postprocess_ms += r.timing.postprocessing_s * 1e3;
    p.inference_ms += r.timing.inference_s * 1e3;
    p.queue_ms += r.timing.queue_s * 1e3;
    p.total_ms += r.timing.total_s * 1e3;
    p.polygons += static_cast<double>(r.polygons.size());
    p.json_bytes = body.size();
    ++p.images;
    return Status::Ok();
  };
  (void)one(0);  // warm-up
  p = OverheadPoint{};
  LoadStats load = RunClosedLoop(1, seconds, one);
  p.error = load.first_error;
  if (p.images > 0) {
    const double n = static_cast<double>(p.images);
    for (double* v : {&p.preprocess_ms, &p.decode_ms, &p.postprocess_ms, &p.json_ms,
                      &p.inference_ms, &p.queue_ms, &p.total_ms, &p.polygons}) {
      *v /= n;
    }
  }
  return p;
}

// The in-process server, wired as `seghub serve` wires it (Hub routes over SegmentService).
struct HttpStack {
  std::unique_ptr<pipeline::SegmentService> service;
  std::unique_ptr<api::Router> router;
  std::unique_ptr<api::HttpServer> server;
  ~HttpStack() {
    if (server) server->Stop();
    if (service) service->Shutdown();
  }
};

Status StartHttpStack(LocalEngine& local, const BenchSegmentOptions& o, HttpStack* s) {
  pipeline::SegmentServiceOptions so;
  so.default_model = o.model;
  so.registry = &local.registry;
  s->service = std::make_unique<pipeline::SegmentService>(local.engine.get(), so);
  s->router = std::make_unique<api::Router>(&local.registry);
  api::HubRoutesOptions hub;
  hub.engine = local.engine.get();
  hub.segmenter = s->service.get();
  hub.version = std::string(Version());
  SEGHUB_RETURN_IF_ERROR(api::RegisterHubRoutes(s->router.get(), hub));
  api::HttpServerOptions ho;
  ho.host = "127.0.0.1";
  ho.port = 0;
  ho.io_threads = o.io_threads;
  SEGHUB_ASSIGN_OR_RETURN(s->server, api::HttpServer::Start(ho, s->router.get()));
  return Status::Ok();
}

Result<LoadStats> RunHttp(uint16_t port, const MultipartBody& body, int clients, double seconds) {
  std::vector<std::unique_ptr<BenchHttpClient>> conns;
  for (int c = 0; c < clients; ++c) {
    SEGHUB_ASSIGN_OR_RETURN(auto conn, BenchHttpClient::Connect("127.0.0.1", port));
    conns.push_back(std::move(conn));
  }
  auto one = [&](int c) -> Status {
    SEGHUB_ASSIGN_OR_RETURN(auto reply,
                            conns[static_cast<size_t>(c)]->Post("/api/v1/segment", body));
    if (reply.status != 200) {
      return Internal("HTTP " + std::to_string(reply.status) + ": " + reply.body.substr(0, 200));
    }
    return Status::Ok();
  };
  RunClosedLoop(clients, 0, one);  // warm-up: one request per connection
  return RunClosedLoop(clients, seconds, one);
}

json LoadJson(const LoadStats& l) {
  return {{"clients", l.clients}, {"images", l.completed},
          {"errors", l.errors},   {"images_per_s", l.per_second},
          {"mean_ms", l.mean_ms}, {"p50_ms", l.p50_ms},
          {"p99_ms", l.p99_ms}};
}

json OverheadJson(const OverheadPoint& p, double compute_ms) {
  const double overhead = p.preprocess_ms + p.postprocess_ms + p.json_ms;
  return {{"images", p.images},
          {"decode_preprocess_ms", p.preprocess_ms},
          {"decode_ms", p.decode_ms},
          {"postprocess_ms", p.postprocess_ms},
          {"json_ms", p.json_ms},
          {"overhead_ms", overhead},
          {"model_compute_ms", compute_ms},
          {"overhead_ratio", compute_ms > 0 ? overhead / compute_ms : 0.0},
          {"service_inference_ms", p.inference_ms},
          {"service_queue_ms", p.queue_ms},
          {"service_total_ms", p.total_ms},
          {"polygons_per_image", p.polygons},
          {"json_bytes", p.json_bytes}};
}

void PrintHeader(const BenchSegmentOptions& o, const BenchImage& img, const engine::ModelStatus& m,
                 const std::vector<engine::Tensor>& inputs) {
  std::printf("seghub bench-segment: model %s (%s on %s, %zu input(s)/image of [",
              m.config.name.c_str(), m.config.backend.c_str(), m.device.c_str(), inputs.size());
  const engine::Shape& shape = inputs.front().shape;
  for (size_t i = 0; i < shape.size(); ++i) {
    std::printf("%s%lld", i ? "," : "", static_cast<long long>(shape[i]));
  }
  std::printf("]), image %dx%d %s (%zu KiB), %.1f s per point, %u hardware threads\n\n", img.width,
              img.height, img.source.c_str(), img.bytes.size() / 1024, o.seconds,
              std::thread::hardware_concurrency());
  std::printf("  %-16s %7s %10s %9s %9s %9s %9s %10s\n", "path", "clients", "images/s", "mean ms",
              "p50 ms", "p99 ms", "errors", "http/raw");
}

void PrintLoad(const char* path, const LoadStats& l, double ratio) {
  std::printf("  %-16s %7d %10.2f %9.1f %9.1f %9.1f %9lld", path, l.clients, l.per_second,
              l.mean_ms, l.p50_ms, l.p99_ms, static_cast<long long>(l.errors));
  if (ratio >= 0) std::printf(" %10.3f", ratio);
  std::printf("\n");
}

void PrintOverhead(const json& j) {
  auto ms = [&](const char* k) { return j[k].get<double>(); };
  std::printf("\nper-image overhead, 1 client through SegmentService (mean of %lld images):\n",
              static_cast<long long>(j["images"].get<int64_t>()));
  std::printf("  decode + preprocess %9.2f ms (decode %.2f ms)\n", ms("decode_preprocess_ms"),
              ms("decode_ms"));
  std::printf("  postprocess         %9.2f ms\n", ms("postprocess_ms"));
  std::printf("  JSON (to_json+dump) %9.2f ms (%zu bytes)\n", ms("json_ms"),
              j["json_bytes"].get<size_t>());
  std::printf("  overhead total      %9.2f ms\n", ms("overhead_ms"));
  std::printf("  model compute       %9.2f ms (raw engine, 1 client)\n", ms("model_compute_ms"));
  std::printf("  overhead / compute  %9.1f %%  (target <= 10 %%)\n", 100 * ms("overhead_ratio"));
}

Result<json> Measure(const BenchSegmentOptions& o, LocalEngine& local, const BenchImage& img) {
  engine::Engine& eng = *local.engine;
  SEGHUB_RETURN_IF_ERROR(eng.LoadModel(o.model));
  SEGHUB_ASSIGN_OR_RETURN(engine::ModelStatus model, eng.GetModel(o.model));
  SEGHUB_ASSIGN_OR_RETURN(auto inputs, PrepareInputs(img, model.config));
  HttpStack http;
  SEGHUB_RETURN_IF_ERROR(StartHttpStack(local, o, &http));
  const MultipartBody body =
      MakeMultipartBody("file", "bench.png", img.bytes, {{"model", o.model}});
  if (inputs.empty()) return Internal("the input plan made no model inputs");
  PrintHeader(o, img, model, inputs);
  json report = {{"model", o.model},
                 {"backend", model.config.backend},
                 {"device", model.device},
                 {"inputs_per_image", inputs.size()},
                 {"image",
                  {{"source", img.source},
                   {"width", img.width},
                   {"height", img.height},
                   {"bytes", img.bytes.size()}}},
                 {"seconds", o.seconds},
                 {"hardware_threads", std::thread::hardware_concurrency()},
                 {"raw", json::array()},
                 {"http", json::array()}};
  std::set<int> clients(o.clients.begin(), o.clients.end());
  clients.insert(1);  // the overhead ratio needs the single-client compute time
  // Raw and HTTP at the same concurrency back to back, so machine noise hits both alike.
  for (int c : clients) {
    RawPoint raw = RunRaw(eng, o.model, inputs, c, o.seconds);
    PrintLoad("raw engine", raw.load, -1);
    json rj = LoadJson(raw.load);
    rj["compute_ms_per_image"] = raw.compute_ms;
    rj["max_batch"] = raw.max_batch;
    report["raw"].push_back(rj);
    if (c == 1) {
      OverheadPoint p = RunOverhead(*http.service, o.model, img.bytes, o.seconds);
      if (p.images == 0) return Internal("segment failed: " + p.error.ToString());
      report["overhead"] = OverheadJson(p, raw.compute_ms);
    }
    SEGHUB_ASSIGN_OR_RETURN(LoadStats h, RunHttp(http.server->port(), body, c, o.seconds));
    const double ratio = raw.load.per_second > 0 ? h.per_second / raw.load.per_second : 0;
    PrintLoad("HTTP end to end", h, ratio);
    json hj = LoadJson(h);
    hj["ratio_to_raw"] = ratio;
    report["http"].push_back(hj);
    if (h.completed == 0) return Internal("HTTP requests failed: " + h.first_error.ToString());
  }
  PrintOverhead(report["overhead"]);
  return report;
}

int RunBenchSegment(const BenchSegmentOptions& o) {
  InitLogging(o.log_level);
  auto img = LoadBenchImage(o.image, o.size, o.encode);
  if (!img.ok()) {
    std::fprintf(stderr, "bench-segment: %s\n", img.status().ToString().c_str());
    return 1;
  }
  LocalEngineOptions eo;
  eo.models_dir = o.models;
  eo.threads = o.threads;
  eo.warmup = true;
  eo.log_blas = true;
  auto local = StartLocalEngine(eo);
  if (!local.ok()) {
    std::fprintf(stderr, "bench-segment: %s\n", local.status().ToString().c_str());
    return 1;
  }
  auto report = Measure(o, **local, *img);
  if (!report.ok()) {
    std::fprintf(stderr, "bench-segment: %s\n", report.status().ToString().c_str());
    return 1;
  }
  if (!o.json_out.empty()) std::ofstream(o.json_out) << report->dump(2) << '\n';
  return 0;
}

}  // namespace

void AddBenchSegmentCommand(CLI::App& app) {
  auto o = std::make_shared<BenchSegmentOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bench-segment",
      "Per-image pipeline overhead vs model compute, and HTTP end to end vs raw engine throughput");
  cmd->add_option("--models", o->models, "Model repository")->capture_default_str();
  cmd->add_option("--model", o->model, "Segmentation model")->capture_default_str();
  cmd->add_option("--image", o->image, "Image to upload (default: a synthetic one)");
  cmd->add_option("--encode", o->encode, "Format of the resized upload: png or jpeg")
      ->check(CLI::IsMember({"png", "jpeg"}))
      ->capture_default_str();
  cmd->add_option("--size", o->size, "Resize the image to SIZE x SIZE (0 = keep)")
      ->capture_default_str();
  cmd->add_option("--seconds", o->seconds, "Measuring time per point")->capture_default_str();
  cmd->add_option("--clients", o->clients, "Concurrent clients")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "Compute threads (0 = all cores)")
      ->capture_default_str();
  cmd->add_option("--io-threads", o->io_threads, "HTTP io threads")->capture_default_str();
  cmd->add_option("--json-out", o->json_out, "Also write the figures to this JSON file");
  cmd->add_option("--log-level", o->log_level, "Log level")->capture_default_str();
  cmd->callback([o] {
    int rc = RunBenchSegment(*o);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace seghub::tools
