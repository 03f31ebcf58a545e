#include "tools/serve_command.h"

#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include "api/blob_routes.h"
#include "api/health_routes.h"
#include "api/http_server.h"
#include "api/hub_routes.h"
#include "api/hub_service_routes.h"
#include "api/kserve_routes.h"
#include "api/pd_routes.h"
#include "api/rate_limit.h"
#include "api/router.h"
#include "api/static_files.h"
#include "common/logging.h"
#include "engine/backend.h"
#include "engine/engine.h"
#include "hub/blob_urls.h"
#include "hub/hub.h"
#include "hub/tokens.h"
#include "metrics/metrics.h"
#include "pipeline/segment_service.h"
#include "pipeline/task_pool.h"
#include "tools/build_info.h"
#include "tools/engine_setup.h"
#include "tools/serve_options.h"
#include "tools/shutdown_signals.h"

namespace seghub::tools {
namespace {

// Everything that lives for the duration of `serve`, destroyed in reverse order.
struct Server {
  metrics::Registry registry;
  engine::BackendRegistry backends;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<pipeline::SegmentService> segmenter;
  std::unique_ptr<hub::Hub> hub;
  std::unique_ptr<pipeline::TaskPool> api_pool;
  std::unique_ptr<api::RateLimiter> limiter;
  std::unique_ptr<hub::BlobUrlSigner> blob_signer;
  std::atomic<bool> shutting_down{false};
  std::unique_ptr<api::Router> router;
  std::unique_ptr<api::HttpServer> http;
};

// The Hub's default model when the repository has it, else the first segmentation model.
std::string DefaultSegmentationModel(const engine::Engine& engine) {
  std::string first;
  for (const engine::ModelStatus& m : engine.ListModels()) {
    if (m.config.task != "segmentation") continue;
    if (m.config.name == "hrnet") return m.config.name;
    if (first.empty()) first = m.config.name;
  }
  return first.empty() ? "hrnet" : first;
}

Status RegisterSegmentation(const ServeOptions& o, Server* s) {
  pipeline::SegmentServiceOptions so;
  so.default_model = DefaultSegmentationModel(*s->engine);
  so.registry = &s->registry;
  so.limits.max_bytes = static_cast<uint64_t>(o.max_image_bytes);
  s->segmenter = std::make_unique<pipeline::SegmentService>(s->engine.get(), so);
  api::HubRoutesOptions hub;
  hub.engine = s->engine.get();
  hub.segmenter = s->segmenter.get();
  hub.version = std::string(Version());
  SEGHUB_RETURN_IF_ERROR(api::RegisterHubRoutes(s->router.get(), hub));
  api::KserveRoutesOptions kserve;
  kserve.engine = s->engine.get();
  kserve.version = std::string(Version());
  return api::RegisterKserveRoutes(s->router.get(), kserve);
}

// The Hub service (projects, images, jobs, users, exports) and the web UI.
Status RegisterHubService(const ServeOptions& o, Server* s) {
  hub::HubOptions ho;
  ho.data_dir = o.data_dir;
  ho.db_url = o.db_url;
  ho.db_pool_size = o.db_pool;
  ho.queue_url = o.queue_url;
  ho.registry = &s->registry;
  ho.limits.max_bytes = static_cast<uint64_t>(o.max_image_bytes);
  ho.max_in_flight = o.max_in_flight;
  SEGHUB_ASSIGN_OR_RETURN(s->hub, hub::Hub::Open(ho, s->segmenter.get()));
  s->api_pool = std::make_unique<pipeline::TaskPool>(o.api_threads, 4096);
  if (!o.no_rate_limit) {
    s->limiter = std::make_unique<api::RateLimiter>(api::HubDefaultRateLimits(), nullptr);
  }
  api::HubServiceOptions hs;
  hs.hub = s->hub.get();
  hs.pool = s->api_pool.get();
  hs.limiter = s->limiter.get();
  hs.version = std::string(Version());
  SEGHUB_RETURN_IF_ERROR(api::RegisterHubServiceRoutes(s->router.get(), hs));
  // Workers on other machines read uploads through signed URLs (no shared filesystem).
  SEGHUB_ASSIGN_OR_RETURN(std::string secret, hub::LoadOrCreateSecret(o.blob_secret_file));
  s->blob_signer = std::make_unique<hub::BlobUrlSigner>(secret);
  SEGHUB_RETURN_IF_ERROR(api::RegisterBlobRoutes(s->router.get(), &s->hub->blobs(),
                                                 s->blob_signer.get(), s->api_pool.get()));
  std::error_code ec;
  if (std::filesystem::is_directory(o.web_dir, ec)) {
    SEGHUB_RETURN_IF_ERROR(api::AddStaticFiles(s->router.get(), o.web_dir));
  } else {
    SEGHUB_LOG_WARN("no web UI: {} is not a folder (--web)", o.web_dir);
  }
  return Status::Ok();
}

Status StartServer(const ServeOptions& o, Server* s) {
  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec) return InvalidArgument("cannot create --data " + o.data_dir + ": " + ec.message());

  RegisterBackends(&s->backends);
  engine::EngineOptions eo;
  eo.model_dir = o.models_dir;
  eo.memory_budget_bytes = o.memory_budget_bytes;
  eo.cpu_threads = o.threads;
  eo.warmup = !o.no_warmup;
  SEGHUB_ASSIGN_OR_RETURN(s->engine, engine::Engine::Create(eo, &s->backends, &s->registry));
  s->engine->Start();

  s->router = std::make_unique<api::Router>(&s->registry);
  api::HealthOptions health;
  health.engine = s->engine.get();
  health.registry = &s->registry;
  health.version = std::string(Version());
  health.shutting_down = &s->shutting_down;
  health.dependency_error = [s] { return s->hub ? s->hub->dependency_error() : std::string(); };
  SEGHUB_RETURN_IF_ERROR(api::RegisterHealthRoutes(s->router.get(), health));
  SEGHUB_RETURN_IF_ERROR(RegisterSegmentation(o, s));
  api::PdRoutesOptions pd;  // model "pd_unet1d": 404 from /api/v1/pd/analyze when absent
  pd.engine = s->engine.get();
  SEGHUB_RETURN_IF_ERROR(api::RegisterPdRoutes(s->router.get(), pd));
  SEGHUB_RETURN_IF_ERROR(RegisterHubService(o, s));

  api::HttpServerOptions so;
  so.host = o.host;
  so.port = static_cast<uint16_t>(o.port);
  so.io_threads = o.io_threads;
  so.max_body_bytes = o.max_body_bytes;
  SEGHUB_ASSIGN_OR_RETURN(s->http, api::HttpServer::Start(so, s->router.get()));
  return Status::Ok();
}

// Stop taking new work first, let the engine fail what is queued (clients get 503 rather than a
// reset), then close the remaining connections.
void StopServer(Server* s) {
  s->shutting_down = true;
  if (s->http) s->http->StopAccepting();
  // The runner stops claiming; jobs it had started stay `processing` in the database and are
  // picked up again at the next start, so a shutdown loses nothing.
  if (s->hub) s->hub->Stop();
  // Running batches finish and their images are post-processed before the pool stops.
  if (s->engine) s->engine->Shutdown();
  if (s->segmenter) s->segmenter->Shutdown();
  if (s->http) s->http->Stop();
  if (s->api_pool) s->api_pool->Stop();
}

int RunServe(CLI::App* cmd, ServeOptions* o) {
  sigset_t signals = BlockShutdownSignals();
  Status finalized = FinalizeServeOptions(cmd, o);
  if (!finalized.ok()) {
    std::cerr << "seghub serve: " << finalized.message() << "\n";
    return 2;
  }
  InitLogging(o->log_level);
  SEGHUB_LOG_INFO("seghub {} ({}), models from {}, memory budget {}", Version(), BuildType(),
                  o->models_dir, o->memory_budget);
  Server server;
  Status started = StartServer(*o, &server);
  if (!started.ok()) {
    SEGHUB_LOG_ERROR("seghub serve: {}", started.ToString());
    StopServer(&server);
    return 1;
  }
  // Tests and scripts parse this line to learn the port when --port 0 was given.
  SEGHUB_LOG_INFO("listening on http://{}:{}", UrlHost(o->host), server.http->port());
  std::string sig = WaitForShutdownSignal(signals);
  SEGHUB_LOG_INFO("received {}; shutting down", sig);
  StopServer(&server);
  SEGHUB_LOG_INFO("stopped");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("serve", "Serve the HTTP API until SIGINT or SIGTERM");
  auto options = std::make_shared<ServeOptions>();
  AddServeOptions(cmd, options.get());
  cmd->callback([cmd, options] {
    int rc = RunServe(cmd, options.get());
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace seghub::tools
