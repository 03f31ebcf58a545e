// Probes and service info: /health, /ready, /startup, /metrics, /version and the KServe v2
// /v2/health/{live,ready}.
//
// Liveness (/health, /v2/health/live) is 200 whenever the process answers; /health keeps the
// Hub's body {status, timestamp, models_loaded, gpu_available}. Readiness (/ready,
// /v2/health/ready) is 200 once the engine finished its initial loading and the process is not
// shutting down and its dependencies (the database) answer; otherwise 503 with the reason. /startup
// only reports whether initial loading finished.
#ifndef SEGHUB_API_HEALTH_ROUTES_H_
#define SEGHUB_API_HEALTH_ROUTES_H_

#include <atomic>
#include <functional>
#include <string>

#include "api/router.h"
#include "common/status.h"
#include "engine/engine.h"
#include "metrics/metrics.h"

namespace seghub::api {

struct HealthOptions {
  engine::Engine* engine = nullptr;       // null: never ready, no models (tests, early startup)
  metrics::Registry* registry = nullptr;  // null: /metrics is empty
  std::string version;
  bool gpu_available = false;  // a CUDA device is usable by some backend
  // Set by the caller when shutdown begins, so load balancers stop routing here first.
  const std::atomic<bool>* shutting_down = nullptr;
  // Optional: why a dependency (the database) is unusable, "" when fine. Called on io threads, so
  // it must only read a cached state (see hub::Hub::dependency_error()).
  std::function<std::string()> dependency_error;
};

// Registers the probe routes. Everything in `options` must outlive the router. The handlers are
// synchronous and cheap (no inference); they run on io threads.
Status RegisterHealthRoutes(Router* router, HealthOptions options);

}  // namespace seghub::api

#endif  // SEGHUB_API_HEALTH_ROUTES_H_
