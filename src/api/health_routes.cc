#include "api/health_routes.h"

#include <chrono>
#include <ctime>
#include <memory>

#include "api/request_params.h"

namespace seghub::api {
namespace {

struct Probes {
  HealthOptions options;

  bool LoadingFinished() const { return options.engine != nullptr && options.engine->Ready(); }
  bool ShuttingDown() const {
    return options.shutting_down != nullptr && options.shutting_down->load();
  }
  std::string DependencyError() const {
    return options.dependency_error ? options.dependency_error() : "";
  }
  bool Ready() const { return LoadingFinished() && !ShuttingDown() && DependencyError().empty(); }

  int ModelsLoaded(bool* any_gpu) const {
    if (options.engine == nullptr) return 0;
    int n = 0;
    for (const auto& m : options.engine->ListModels()) {
      if (m.state != engine::ModelState::kReady) continue;
      ++n;
      if (m.device.rfind("cuda", 0) == 0) *any_gpu = true;
    }
    return n;
  }

  HttpResponse Health() const {
    bool gpu = options.gpu_available;
    int loaded = ModelsLoaded(&gpu);
    return HttpResponse::Json(200, {{"status", "healthy"},
                                    {"timestamp", NowIso8601()},
                                    {"models_loaded", loaded},
                                    {"gpu_available", gpu}});
  }

  HttpResponse ReadyProbe() const {
    if (Ready()) return HttpResponse::Json(200, {{"ready", true}});
    std::string reason = ShuttingDown()       ? "shutting down"
                         : !LoadingFinished() ? "models are still loading"
                                              : DependencyError();
    return HttpResponse::Json(503, {{"ready", false}, {"reason", reason}});
  }

  HttpResponse Startup() const {
    bool done = LoadingFinished();
    return HttpResponse::Json(done ? 200 : 503, {{"started", done}});
  }
};

}  // namespace

Status RegisterHealthRoutes(Router* router, HealthOptions options) {
  auto p = std::make_shared<const Probes>(Probes{std::move(options)});
  SEGHUB_RETURN_IF_ERROR(
      router->AddSync("GET", "/health", [p](const HttpRequest&) { return p->Health(); }));
  SEGHUB_RETURN_IF_ERROR(
      router->AddSync("GET", "/ready", [p](const HttpRequest&) { return p->ReadyProbe(); }));
  SEGHUB_RETURN_IF_ERROR(
      router->AddSync("GET", "/startup", [p](const HttpRequest&) { return p->Startup(); }));
  SEGHUB_RETURN_IF_ERROR(router->AddSync("GET", "/v2/health/live", [](const HttpRequest&) {
    return HttpResponse::Json(200, {{"live", true}});
  }));
  SEGHUB_RETURN_IF_ERROR(router->AddSync("GET", "/v2/health/ready", [p](const HttpRequest&) {
    return HttpResponse::Json(p->Ready() ? 200 : 503, {{"ready", p->Ready()}});
  }));
  SEGHUB_RETURN_IF_ERROR(router->AddSync("GET", "/metrics", [p](const HttpRequest&) {
    std::string text = p->options.registry ? p->options.registry->Render() : std::string();
    return HttpResponse::Text(200, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
  }));
  return router->AddSync("GET", "/version", [p](const HttpRequest&) {
    return HttpResponse::Json(200, {{"name", "seghub"}, {"version", p->options.version}});
  });
}

}  // namespace seghub::api
