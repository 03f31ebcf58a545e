// The Open Inference Protocol (KServe v2) REST endpoints for raw tensors, so standard inference
// clients (tritonclient, KServe SDKs, curl scripts) can call any model in the repository:
//
//   GET  /v2                                   server metadata
//   GET  /v2/models/{model}[/versions/{v}]     model metadata (inputs, outputs, platform)
//   GET  /v2/models/{model}[/versions/{v}]/ready
//   POST /v2/models/{model}[/versions/{v}]/infer
//
// Inference requests carry one input tensor in JSON ("data" flat or nested, row-major) whose
// first dimension is the batch; each sample becomes its own engine request, so samples of many
// clients batch together. FP32 in and out (FP64/FP16 and integer inputs are converted). The
// liveness/readiness probes /v2/health/{live,ready} live in health_routes.h.
#ifndef SEGHUB_API_KSERVE_ROUTES_H_
#define SEGHUB_API_KSERVE_ROUTES_H_

#include <chrono>
#include <string>

#include "api/router.h"
#include "common/status.h"
#include "engine/engine.h"

namespace seghub::api {

struct KserveRoutesOptions {
  engine::Engine* engine = nullptr;  // required; must outlive the router
  std::string version;
  std::chrono::seconds request_timeout{300};
  int64_t max_batch = 256;  // samples per infer request
};

Status RegisterKserveRoutes(Router* router, KserveRoutesOptions options);

}  // namespace seghub::api

#endif  // SEGHUB_API_KSERVE_ROUTES_H_
