#include "api/hub_service_routes.h"

#include <exception>

#include "api/cookies.h"
#include "api/http_status.h"
#include "api/hub_service_context.h"

namespace seghub::api {
namespace hubsvc {
namespace {

std::string BearerToken(const HttpRequest& request) {
  std::string auth = request.Header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() > kBearer.size() && auth.compare(0, kBearer.size(), kBearer) == 0) {
    return auth.substr(kBearer.size());
  }
  return "";
}

// Runs a route function, turning a stray exception into a 500 rather than a lost request.
template <typename Fn>
void Answer(const Responder& responder, Fn&& fn) {
  Result<HttpResponse> response = Internal("no response");
  try {
    response = fn();
  } catch (const std::exception& e) {
    response = Internal(std::string("unexpected error: ") + e.what());
  }
  if (response.ok()) {
    responder.Send(std::move(response).value());
  } else {
    responder.SendStatus(response.status());
  }
}

Handler Offload(const CtxPtr& ctx, const char* limit_class,
                std::function<void(const HttpRequest&, const Responder&)> work) {
  Handler handler = [ctx, work](HttpRequest&& request, Responder responder) {
    auto shared = std::make_shared<HttpRequest>(std::move(request));
    Status posted =
        ctx->options.pool->Post([shared, responder, work] { work(*shared, responder); });
    if (!posted.ok()) responder.SendStatus(posted);
  };
  if (ctx->options.limiter != nullptr) {
    handler = RateLimited(std::move(handler), ctx->options.limiter, limit_class);
  }
  return handler;
}

}  // namespace

Result<hub::User> Authenticate(hub::Hub& hub, const HttpRequest& request) {
  std::string token = BearerToken(request);
  if (token.empty()) {
    std::map<std::string, std::string> cookies = ParseCookies(request.Header("Cookie"));
    auto it = cookies.find("seghub_access");
    if (it != cookies.end()) token = it->second;
  }
  if (token.empty()) return Unauthenticated("sign in first: no access token or API token");
  return hub.users().Authenticate(token);
}

Status AddAuthed(const CtxPtr& ctx, const char* method, const char* pattern,
                 const char* limit_class, RouteDoc doc, AuthedFn fn) {
  doc.auth = true;
  ctx->docs->Add(method, pattern, std::move(doc));
  auto work = [ctx, fn](const HttpRequest& request, const Responder& responder) {
    Answer(responder, [&]() -> Result<HttpResponse> {
      SEGHUB_ASSIGN_OR_RETURN(hub::User user, Authenticate(ctx->hub(), request));
      return fn(request, user);
    });
  };
  return ctx->router->Add(method, pattern, Offload(ctx, limit_class, work));
}

Status AddPublic(const CtxPtr& ctx, const char* method, const char* pattern,
                 const char* limit_class, RouteDoc doc, PublicFn fn) {
  doc.auth = false;
  ctx->docs->Add(method, pattern, std::move(doc));
  auto work = [fn](const HttpRequest& request, const Responder& responder) {
    Answer(responder, [&]() { return fn(request); });
  };
  return ctx->router->Add(method, pattern, Offload(ctx, limit_class, work));
}

Result<nlohmann::json> JsonObjectBody(const HttpRequest& request) {
  if (request.body.empty()) return nlohmann::json::object();
  nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
  if (body.is_discarded()) return InvalidArgument("the request body is not valid JSON");
  if (!body.is_object()) return InvalidArgument("the request body must be a JSON object");
  return body;
}

Result<std::optional<std::string>> OptString(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<std::string>();
  if (!j[key].is_string())
    return InvalidArgument(std::string("field '") + key + "' must be a string");
  return std::optional<std::string>(j[key].get<std::string>());
}

Result<std::optional<bool>> OptBool(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<bool>();
  if (!j[key].is_boolean())
    return InvalidArgument(std::string("field '") + key + "' must be true or false");
  return std::optional<bool>(j[key].get<bool>());
}

Result<std::optional<double>> OptNumber(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<double>();
  if (!j[key].is_number())
    return InvalidArgument(std::string("field '") + key + "' must be a number");
  return std::optional<double>(j[key].get<double>());
}

Result<std::string> ReqString(const nlohmann::json& j, const char* key) {
  SEGHUB_ASSIGN_OR_RETURN(std::optional<std::string> value, OptString(j, key));
  if (!value) return InvalidArgument(std::string("field '") + key + "' is required");
  return *value;
}

Result<std::pair<int, int>> Paging(const HttpRequest& request, int default_per_page,
                                   int max_per_page) {
  auto read = [&](const char* key, int fallback, int lo, int hi) -> Result<int> {
    std::optional<std::string> text = request.Query(key);
    if (!text) return fallback;
    try {
      size_t used = 0;
      int value = std::stoi(*text, &used);
      if (used == text->size() && value >= lo && value <= hi) return value;
    } catch (const std::exception&) {
    }
    return InvalidArgument(std::string("query '") + key + "' must be an integer in " +
                           std::to_string(lo) + ".." + std::to_string(hi));
  };
  SEGHUB_ASSIGN_OR_RETURN(int page, read("page", 1, 1, 1000000));
  SEGHUB_ASSIGN_OR_RETURN(int per_page, read("per_page", default_per_page, 1, max_per_page));
  return std::make_pair(page, per_page);
}

HttpResponse JsonResponse(int status, const nlohmann::json& body) {
  return HttpResponse::Json(status, body);
}

HttpResponse NoContent() {
  HttpResponse r;
  r.status = 204;
  r.content_type = "";
  return r;
}

nlohmann::json UserJson(const hub::User& user) {
  return {{"id", user.id}, {"email", user.email}, {"name", user.name}};
}

}  // namespace hubsvc

Status RegisterHubServiceRoutes(Router* router, const HubServiceOptions& options) {
  if (options.hub == nullptr || options.pool == nullptr) {
    return InvalidArgument("the hub service routes need a hub and a pool");
  }
  auto docs = std::make_shared<OpenApiBuilder>();
  auto ctx = std::make_shared<hubsvc::Context>();
  ctx->options = options;
  ctx->router = router;
  ctx->docs = docs.get();
  SEGHUB_RETURN_IF_ERROR(hubsvc::RegisterAuthRoutes(ctx));
  SEGHUB_RETURN_IF_ERROR(hubsvc::RegisterProjectRoutes(ctx));
  SEGHUB_RETURN_IF_ERROR(hubsvc::RegisterImageRoutes(ctx));
  SEGHUB_RETURN_IF_ERROR(hubsvc::RegisterJobRoutes(ctx));
  SEGHUB_RETURN_IF_ERROR(hubsvc::RegisterExportRoutes(ctx));
  SEGHUB_RETURN_IF_ERROR(hubsvc::RegisterEventSocket(ctx));
  docs->Add("GET", "/api/openapi.json",
            {"This document", "meta", "", {}, "application/json", false});
  std::string version = options.version;
  return router->AddSync("GET", "/api/openapi.json", [docs, version](const HttpRequest&) {
    return HttpResponse::Json(200, docs->Build(version));
  });
}

}  // namespace seghub::api
