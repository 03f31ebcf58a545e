#include "tools/serve_command.h"

#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include "api/health_routes.h"
#include "api/http_server.h"
#include "api/router.h"
#include "common/logging.h"
#include "engine/backend.h"
#include "engine/engine.h"
#include "engine/test_backend.h"
#include "metrics/metrics.h"
#include "tools/build_info.h"
#include "tools/serve_options.h"
#if defined(SEGHUB_WITH_TORCH) && SEGHUB_WITH_TORCH
#include "engine/torch/torch_backend.h"
#endif

namespace seghub::tools {
namespace {

// Blocks SIGINT/SIGTERM in the calling thread; threads started afterwards inherit the mask, so
// the signal is only ever taken by sigwait() in main, outside any async-signal context.
sigset_t BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

void RegisterBackends(engine::BackendRegistry* backends) {
  backends->Register(engine::MakeTestBackend());
#if defined(SEGHUB_WITH_TORCH) && SEGHUB_WITH_TORCH
  backends->Register(engine::MakeTorchBackend());
  // With Debian's reference BLAS every LibTorch model runs 2-2.7x slower
  // (../shared/reference/cpu-inference-notes.md): say so loudly.
  const engine::BlasInfo blas = engine::BlasStatus();
  if (blas.is_reference || blas.library == "unknown" || blas.library == "none") {
    SEGHUB_LOG_WARN(
        "BLAS in use is {} ({}): not an optimised one; install libopenblas0-openmp "
        "(scripts/bootstrap.sh does) for 2x faster inference",
        blas.library, blas.path);
  } else {
    SEGHUB_LOG_INFO("BLAS: {} ({})", blas.library, blas.path);
  }
#endif
}

std::string UrlHost(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// Everything that lives for the duration of `serve`, destroyed in reverse order.
struct Server {
  metrics::Registry registry;
  engine::BackendRegistry backends;
  std::unique_ptr<engine::Engine> engine;
  std::atomic<bool> shutting_down{false};
  std::unique_ptr<api::Router> router;
  std::unique_ptr<api::HttpServer> http;
};

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
  SEGHUB_RETURN_IF_ERROR(api::RegisterHealthRoutes(s->router.get(), health));

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
  if (s->engine) s->engine->Shutdown();
  if (s->http) s->http->Stop();
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
  int sig = 0;
  sigwait(&signals, &sig);
  SEGHUB_LOG_INFO("received {}; shutting down", strsignal(sig));
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
