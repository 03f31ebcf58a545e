// The Hub service's REST API and WebSocket (docs/hub-service.md): auth, projects and sharing,
// images and segmentation versions, jobs, exports, live events, and /api/openapi.json.
//
// io threads only parse the request line and hand the request to `pool`; a pool thread
// authenticates, talks to the Hub (which may block on the database) and answers. A full pool
// answers 429 with Retry-After instead of queueing without bound. Requests are rate limited per
// client IP and endpoint class when a limiter is given.
//
// Ownership: everything in the options is borrowed and must outlive the router.
#ifndef SEGHUB_API_HUB_SERVICE_ROUTES_H_
#define SEGHUB_API_HUB_SERVICE_ROUTES_H_

#include <string>

#include "api/rate_limit.h"
#include "api/router.h"
#include "hub/hub.h"
#include "pipeline/task_pool.h"

namespace seghub::api {

struct HubServiceOptions {
  hub::Hub* hub = nullptr;             // required
  pipeline::TaskPool* pool = nullptr;  // required
  RateLimiter* limiter = nullptr;      // optional
  bool secure_cookies = false;         // set when served over HTTPS
  std::string version;
};

Status RegisterHubServiceRoutes(Router* router, const HubServiceOptions& options);

}  // namespace seghub::api

#endif  // SEGHUB_API_HUB_SERVICE_ROUTES_H_
