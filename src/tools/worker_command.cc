#include "tools/worker_command.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "api/health_routes.h"
#include "api/http_server.h"
#include "api/router.h"
#include "common/logging.h"
#include "engine/backend.h"
#include "engine/engine.h"
#include "hub/blob_urls.h"
#include "hub/http_blob_source.h"
#include "hub/hub.h"
#include "hub/ids.h"
#include "hub/tokens.h"
#include "metrics/metrics.h"
#include "pipeline/segment_service.h"
#include "tools/build_info.h"
#include "tools/engine_setup.h"
#include "tools/serve_options.h"
#include "tools/shutdown_signals.h"

namespace seghub::tools {
namespace {

struct WorkerOptions {
  std::string db_url;
  std::string queue_url;
  std::string models_dir = "./models";
  std::string api_url;  // comma-separated API base URLs
  std::string blob_secret_file;
  std::string data_dir = "./worker-data";
  std::string host = "127.0.0.1";
  int port = 8081;
  std::string worker_id;
  std::string memory_budget = "8GiB";
  int threads = 0;
  int max_in_flight = 16;
  int lease_s = 30;
  int reclaim_idle_s = 60;
  std::string max_image = "20MiB";
  std::string log_level = "info";
  bool no_warmup = false;
};

void AddWorkerOptions(CLI::App* app, WorkerOptions* o) {
  AddOption(app, "db", &o->db_url, "Database URL (postgres://user:pass@host:port/db)")->required();
  AddOption(app, "queue", &o->queue_url, "Redis URL of the job queue (redis://host:port)")
      ->required();
  AddOption(app, "models", &o->models_dir, "Model repository (one folder per model)");
  AddOption(app, "api-url", &o->api_url,
            "Base URL(s) of the API servers holding the uploads, comma-separated "
            "(http://api:8080)")
      ->required();
  AddOption(app, "blob-secret-file", &o->blob_secret_file,
            "The secret shared with the API servers to sign blob URLs (their --blob-secret-file)")
      ->required();
  AddOption(app, "data", &o->data_dir, "Scratch folder (token key, caches); nothing durable");
  AddOption(app, "host", &o->host, "Address of the health/metrics endpoint");
  AddOption(app, "port", &o->port, "Port of /health, /ready, /metrics; 0 picks a free one")
      ->check(CLI::Range(0, 65535));
  AddOption(app, "worker-id", &o->worker_id, "Name in the queue; empty: host:pid");
  AddOption(app, "memory-budget", &o->memory_budget, "Memory for weights and activations");
  AddOption(app, "threads", &o->threads, "Compute threads; 0 = all cores")
      ->check(CLI::NonNegativeNumber);
  AddOption(app, "max-in-flight", &o->max_in_flight, "Jobs this worker runs at once")
      ->check(CLI::Range(1, 4096));
  AddOption(app, "lease", &o->lease_s,
            "Seconds a claimed job stays ours without renewal (renewed every third)")
      ->check(CLI::Range(3, 3600));
  AddOption(app, "reclaim-idle", &o->reclaim_idle_s,
            "Seconds after which a job delivered to a dead worker is taken over")
      ->check(CLI::Range(1, 86400));
  AddOption(app, "max-image", &o->max_image, "Largest image fetched (e.g. 20MiB)");
  AddOption(app, "log-level", &o->log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app->add_flag("--no-warmup", o->no_warmup, "Skip the warm-up inference after loading a model")
      ->envname(EnvNameFor("no-warmup"));
}

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Everything the worker owns, destroyed in reverse order.
struct Worker {
  metrics::Registry registry;
  engine::BackendRegistry backends;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<pipeline::SegmentService> segmenter;
  std::unique_ptr<hub::BlobUrlSigner> signer;
  std::unique_ptr<hub::HttpBlobSource> blob_source;
  std::unique_ptr<hub::Hub> hub;
  std::atomic<bool> shutting_down{false};
  std::unique_ptr<api::Router> router;
  std::unique_ptr<api::HttpServer> http;
};

Status StartEngine(const WorkerOptions& o, Worker* w) {
  int64_t budget = 0, max_image = 0;
  SEGHUB_RETURN_IF_ERROR(ParsePositiveBytes("memory-budget", o.memory_budget, &budget));
  SEGHUB_RETURN_IF_ERROR(ParsePositiveBytes("max-image", o.max_image, &max_image));
  RegisterBackends(&w->backends);
  engine::EngineOptions eo;
  eo.model_dir = o.models_dir;
  eo.memory_budget_bytes = budget;
  eo.cpu_threads = o.threads;
  eo.warmup = !o.no_warmup;
  SEGHUB_ASSIGN_OR_RETURN(w->engine, engine::Engine::Create(eo, &w->backends, &w->registry));
  w->engine->Start();
  pipeline::SegmentServiceOptions so;
  so.registry = &w->registry;
  so.limits.max_bytes = static_cast<uint64_t>(max_image);
  w->segmenter = std::make_unique<pipeline::SegmentService>(w->engine.get(), so);
  return Status::Ok();
}

Status StartHub(const WorkerOptions& o, Worker* w) {
  std::ifstream probe(o.blob_secret_file);
  if (!probe) {
    return InvalidArgument("--blob-secret-file " + o.blob_secret_file +
                           " is not readable: copy the API servers' secret there");
  }
  SEGHUB_ASSIGN_OR_RETURN(std::string secret, hub::LoadOrCreateSecret(o.blob_secret_file));
  w->signer = std::make_unique<hub::BlobUrlSigner>(secret);
  int64_t max_image = 0;
  SEGHUB_RETURN_IF_ERROR(ParsePositiveBytes("max-image", o.max_image, &max_image));
  hub::HttpBlobSourceOptions blob_options;
  blob_options.max_bytes = max_image;
  SEGHUB_ASSIGN_OR_RETURN(
      w->blob_source,
      hub::HttpBlobSource::Create(SplitCommas(o.api_url), w->signer.get(), blob_options));
  hub::HubOptions ho;
  ho.data_dir = o.data_dir;
  ho.db_url = o.db_url;
  ho.queue_url = o.queue_url;
  ho.run_jobs = true;
  ho.worker_id = o.worker_id;
  ho.max_in_flight = o.max_in_flight;
  ho.lease = std::chrono::seconds(o.lease_s);
  ho.reclaim_idle = std::chrono::seconds(std::max(o.reclaim_idle_s, o.lease_s));
  ho.registry = &w->registry;
  ho.job_blobs = w->blob_source.get();
  SEGHUB_ASSIGN_OR_RETURN(w->hub, hub::Hub::Open(ho, w->segmenter.get()));
  return Status::Ok();
}

Status StartProbes(const WorkerOptions& o, Worker* w) {
  w->router = std::make_unique<api::Router>(&w->registry);
  api::HealthOptions health;
  health.engine = w->engine.get();
  health.registry = &w->registry;
  health.version = std::string(Version());
  health.shutting_down = &w->shutting_down;
  health.dependency_error = [w] { return w->hub ? w->hub->dependency_error() : std::string(); };
  SEGHUB_RETURN_IF_ERROR(api::RegisterHealthRoutes(w->router.get(), health));
  api::HttpServerOptions so;
  so.host = o.host;
  so.port = static_cast<uint16_t>(o.port);
  so.io_threads = 1;
  SEGHUB_ASSIGN_OR_RETURN(w->http, api::HttpServer::Start(so, w->router.get()));
  return Status::Ok();
}

// Stop claiming first (unfinished jobs stay leased and are reclaimed elsewhere), then the engine.
void StopWorker(Worker* w) {
  w->shutting_down = true;
  if (w->hub) w->hub->Stop();
  if (w->engine) w->engine->Shutdown();
  if (w->segmenter) w->segmenter->Shutdown();
  if (w->http) w->http->Stop();
}

int RunWorker(const WorkerOptions& o) {
  sigset_t signals = BlockShutdownSignals();
  InitLogging(o.log_level);
  SEGHUB_LOG_INFO("seghub worker {} ({}), models from {}, queue {}", Version(), BuildType(),
                  o.models_dir, o.queue_url);
  Worker worker;
  Status started = StartEngine(o, &worker);
  if (started.ok()) started = StartHub(o, &worker);
  if (started.ok()) started = StartProbes(o, &worker);
  if (!started.ok()) {
    SEGHUB_LOG_ERROR("seghub worker: {}", started.ToString());
    StopWorker(&worker);
    return 1;
  }
  // Tests and scripts parse this line to learn the port when --port 0 was given.
  SEGHUB_LOG_INFO("listening on http://{}:{}", UrlHost(o.host), worker.http->port());
  std::string sig = WaitForShutdownSignal(signals);
  SEGHUB_LOG_INFO("received {}; shutting down", sig);
  StopWorker(&worker);
  SEGHUB_LOG_INFO("stopped");
  return 0;
}

}  // namespace

void AddWorkerCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "worker", "Run segmentation jobs from the distributed queue until SIGINT or SIGTERM");
  auto options = std::make_shared<WorkerOptions>();
  AddWorkerOptions(cmd, options.get());
  cmd->callback([options] {
    int rc = RunWorker(*options);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace seghub::tools
