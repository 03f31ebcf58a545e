// Internal to the hub_service_*.cc route files: the shared context, the handler wrapper that
// moves work off io threads and authenticates, and small request helpers.
#ifndef SEGHUB_API_HUB_SERVICE_CONTEXT_H_
#define SEGHUB_API_HUB_SERVICE_CONTEXT_H_

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/hub_service_routes.h"
#include "api/openapi.h"

namespace seghub::api::hubsvc {

// Route registration with its OpenAPI entry, so the document can never miss a route.
struct Context {
  HubServiceOptions options;
  Router* router = nullptr;
  OpenApiBuilder* docs = nullptr;

  hub::Hub& hub() const { return *options.hub; }
};

// Shared by every handler lambda, so it lives as long as the router's routes.
using CtxPtr = std::shared_ptr<Context>;

using AuthedFn = std::function<Result<HttpResponse>(const HttpRequest&, const hub::User&)>;
using PublicFn = std::function<Result<HttpResponse>(const HttpRequest&)>;

// Registers `fn` for an authenticated route: runs on the pool, 401 without a valid token.
// `limit_class` names the rate-limit bucket ("api", "upload", "segmentation", "general").
Status AddAuthed(const CtxPtr& ctx, const char* method, const char* pattern,
                 const char* limit_class, RouteDoc doc, AuthedFn fn);
// The same without authentication (register, login, refresh).
Status AddPublic(const CtxPtr& ctx, const char* method, const char* pattern,
                 const char* limit_class, RouteDoc doc, PublicFn fn);

// The user behind a request: Authorization: Bearer, else the seghub_access cookie.
Result<hub::User> Authenticate(hub::Hub& hub, const HttpRequest& request);

// The JSON object body; kInvalidArgument naming what is wrong. An empty body is {}.
Result<nlohmann::json> JsonObjectBody(const HttpRequest& request);
// Typed fields of a JSON object: absent → nullopt; wrong type → kInvalidArgument naming it.
Result<std::optional<std::string>> OptString(const nlohmann::json& j, const char* key);
Result<std::optional<bool>> OptBool(const nlohmann::json& j, const char* key);
Result<std::optional<double>> OptNumber(const nlohmann::json& j, const char* key);
Result<std::string> ReqString(const nlohmann::json& j, const char* key);
// ?page / ?per_page with defaults and ranges.
Result<std::pair<int, int>> Paging(const HttpRequest& request, int default_per_page,
                                   int max_per_page);

HttpResponse JsonResponse(int status, const nlohmann::json& body);
HttpResponse NoContent();
nlohmann::json UserJson(const hub::User& user);

Status RegisterAuthRoutes(const CtxPtr& ctx);
Status RegisterProjectRoutes(const CtxPtr& ctx);
Status RegisterImageRoutes(const CtxPtr& ctx);
Status RegisterJobRoutes(const CtxPtr& ctx);
Status RegisterExportRoutes(const CtxPtr& ctx);
Status RegisterEventSocket(const CtxPtr& ctx);

}  // namespace seghub::api::hubsvc

#endif  // SEGHUB_API_HUB_SERVICE_CONTEXT_H_
