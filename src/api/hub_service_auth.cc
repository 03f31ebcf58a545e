// /api/auth/*: register, login, refresh, logout, me, API tokens.
#include "api/cookies.h"
#include "api/hub_service_context.h"
#include "hub/image_service.h"

namespace seghub::api::hubsvc {
namespace {

constexpr const char* kAccessCookie = "seghub_access";
constexpr const char* kRefreshCookie = "seghub_refresh";
constexpr const char* kRefreshPath = "/api/auth";

HttpResponse SessionResponse(const CtxPtr& ctx, int status, const hub::Session& s, int64_t now) {
  HttpResponse r = JsonResponse(status, {{"user", UserJson(s.user)},
                                         {"access_token", s.access_token},
                                         {"expires_in", (s.access_expires_at_ms - now) / 1000},
                                         {"refresh_token", s.refresh_token}});
  CookieOptions access;
  access.max_age_s = (s.access_expires_at_ms - now) / 1000;
  access.secure = ctx->options.secure_cookies;
  CookieOptions refresh = access;
  refresh.path = kRefreshPath;
  refresh.max_age_s = (s.refresh_expires_at_ms - now) / 1000;
  r.set_cookies.push_back(SetCookieValue(kAccessCookie, s.access_token, access));
  r.set_cookies.push_back(SetCookieValue(kRefreshCookie, s.refresh_token, refresh));
  return r;
}

std::string RefreshTokenOf(const HttpRequest& request, const nlohmann::json& body) {
  if (body.contains("refresh_token") && body["refresh_token"].is_string()) {
    return body["refresh_token"].get<std::string>();
  }
  auto cookies = ParseCookies(request.Header("Cookie"));
  auto it = cookies.find(kRefreshCookie);
  return it == cookies.end() ? "" : it->second;
}

int64_t NowMs() { return SystemClock::Get()->NowUnixMs(); }

Status RegisterSessionRoutes(const CtxPtr& ctx) {
  SEGHUB_RETURN_IF_ERROR(AddPublic(
      ctx, "POST", "/api/auth/register", "general",
      {"Create an account and sign in", "auth", "json"},
      [ctx](const HttpRequest& req) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(nlohmann::json body, JsonObjectBody(req));
        SEGHUB_ASSIGN_OR_RETURN(std::string email, ReqString(body, "email"));
        SEGHUB_ASSIGN_OR_RETURN(std::string password, ReqString(body, "password"));
        SEGHUB_ASSIGN_OR_RETURN(std::optional<std::string> name, OptString(body, "name"));
        SEGHUB_RETURN_IF_ERROR(
            ctx->hub().users().Register(email, password, name.value_or("")).status());
        SEGHUB_ASSIGN_OR_RETURN(hub::Session s, ctx->hub().users().Login(email, password));
        return SessionResponse(ctx, 201, s, NowMs());
      }));
  SEGHUB_RETURN_IF_ERROR(AddPublic(
      ctx, "POST", "/api/auth/login", "general", {"Sign in", "auth", "json"},
      [ctx](const HttpRequest& req) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(nlohmann::json body, JsonObjectBody(req));
        SEGHUB_ASSIGN_OR_RETURN(std::string email, ReqString(body, "email"));
        SEGHUB_ASSIGN_OR_RETURN(std::string password, ReqString(body, "password"));
        SEGHUB_ASSIGN_OR_RETURN(hub::Session s, ctx->hub().users().Login(email, password));
        return SessionResponse(ctx, 200, s, NowMs());
      }));
  SEGHUB_RETURN_IF_ERROR(AddPublic(
      ctx, "POST", "/api/auth/refresh", "general",
      {"New access token from the refresh token (cookie or body); rotates it", "auth", "json"},
      [ctx](const HttpRequest& req) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(nlohmann::json body, JsonObjectBody(req));
        std::string token = RefreshTokenOf(req, body);
        if (token.empty()) return Unauthenticated("no refresh token");
        SEGHUB_ASSIGN_OR_RETURN(hub::Session s, ctx->hub().users().Refresh(token));
        return SessionResponse(ctx, 200, s, NowMs());
      }));
  return AddPublic(ctx, "POST", "/api/auth/logout", "general",
                   {"Sign out: revokes the refresh token, clears cookies", "auth", "json"},
                   [ctx](const HttpRequest& req) -> Result<HttpResponse> {
                     Result<nlohmann::json> parsed = JsonObjectBody(req);
                     nlohmann::json body = parsed.ok() ? *parsed : nlohmann::json::object();
                     std::string token = RefreshTokenOf(req, body);
                     if (!token.empty()) {
                       SEGHUB_RETURN_IF_ERROR(ctx->hub().users().Logout(token));
                     }
                     HttpResponse r = NoContent();
                     r.set_cookies.push_back(ClearCookieValue(kAccessCookie, "/"));
                     r.set_cookies.push_back(ClearCookieValue(kRefreshCookie, kRefreshPath));
                     return r;
                   });
}

nlohmann::json TokenJson(const hub::ApiTokenInfo& t) {
  nlohmann::json j = {
      {"id", t.id}, {"name", t.name}, {"created_at", hub::Iso8601(t.created_at_ms)}};
  j["last_used_at"] =
      t.last_used_at_ms ? nlohmann::json(hub::Iso8601(*t.last_used_at_ms)) : nlohmann::json();
  return j;
}

Status RegisterTokenRoutes(const CtxPtr& ctx) {
  SEGHUB_RETURN_IF_ERROR(
      AddAuthed(ctx, "GET", "/api/auth/me", "api", {"The signed-in user", "auth"},
                [](const HttpRequest&, const hub::User& user) -> Result<HttpResponse> {
                  return JsonResponse(200, {{"user", UserJson(user)}});
                }));
  SEGHUB_RETURN_IF_ERROR(
      AddAuthed(ctx, "GET", "/api/auth/tokens", "api", {"The user's API tokens", "auth"},
                [ctx](const HttpRequest&, const hub::User& user) -> Result<HttpResponse> {
                  SEGHUB_ASSIGN_OR_RETURN(auto tokens, ctx->hub().users().ListApiTokens(user.id));
                  nlohmann::json list = nlohmann::json::array();
                  for (const auto& t : tokens) list.push_back(TokenJson(t));
                  return JsonResponse(200, {{"tokens", list}});
                }));
  SEGHUB_RETURN_IF_ERROR(AddAuthed(
      ctx, "POST", "/api/auth/tokens", "api",
      {"Create an API token for scripts (shown once)", "auth", "json"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(nlohmann::json body, JsonObjectBody(req));
        SEGHUB_ASSIGN_OR_RETURN(std::string name, ReqString(body, "name"));
        SEGHUB_ASSIGN_OR_RETURN(auto created, ctx->hub().users().CreateApiToken(user.id, name));
        nlohmann::json j = TokenJson(created.info);
        j["token"] = created.token;
        return JsonResponse(201, j);
      }));
  return AddAuthed(
      ctx, "DELETE", "/api/auth/tokens/{id}", "api", {"Revoke an API token", "auth"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_RETURN_IF_ERROR(ctx->hub().users().RevokeApiToken(user.id, req.Param("id")));
        return NoContent();
      });
}

}  // namespace

Status RegisterAuthRoutes(const CtxPtr& ctx) {
  SEGHUB_RETURN_IF_ERROR(RegisterSessionRoutes(ctx));
  return RegisterTokenRoutes(ctx);
}

}  // namespace seghub::api::hubsvc
