// /api/projects (CRUD), shares and share links.
#include "api/hub_service_context.h"
#include "hub/image_service.h"

namespace seghub::api::hubsvc {
namespace {

using hub::Role;

nlohmann::json ProjectJson(const CtxPtr& ctx, const hub::Project& p) {
  nlohmann::json j = {
      {"id", p.id},
      {"name", p.name},
      {"description", p.description},
      {"owner", {{"id", p.owner.id}, {"email", p.owner.email}, {"name", p.owner.name}}},
      {"role", hub::RoleName(p.role)},
      {"image_count", p.image_count},
      {"created_at", hub::Iso8601(p.created_at_ms)},
      {"updated_at", hub::Iso8601(p.updated_at_ms)}};
  Result<hub::QueueCounts> q = ctx->hub().queue().ProjectCounts(p.id);
  if (q.ok()) {
    j["queue"] = {{"queued", q->queued},
                  {"processing", q->processing},
                  {"done", q->done},
                  {"failed", q->failed},
                  {"cancelled", q->cancelled}};
  }
  return j;
}

nlohmann::json ShareJson(const hub::Share& s) {
  return {{"id", s.id},
          {"user", {{"id", s.user.id}, {"email", s.user.email}, {"name", s.user.name}}},
          {"role", hub::RoleName(s.role)},
          {"created_at", hub::Iso8601(s.created_at_ms)}};
}

Status RegisterCrud(const CtxPtr& ctx) {
  SEGHUB_RETURN_IF_ERROR(AddAuthed(
      ctx, "GET", "/api/projects", "api",
      {"Projects the user owns or that are shared", "projects", "", {"page", "per_page"}},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(auto paging, Paging(req, 50, 200));
        SEGHUB_ASSIGN_OR_RETURN(hub::ProjectPage page,
                                ctx->hub().projects().List(user.id, paging.first, paging.second));
        nlohmann::json list = nlohmann::json::array();
        for (const hub::Project& p : page.projects) list.push_back(ProjectJson(ctx, p));
        return JsonResponse(200, {{"projects", list}, {"total", page.total}});
      }));
  SEGHUB_RETURN_IF_ERROR(AddAuthed(
      ctx, "POST", "/api/projects", "api", {"Create a project", "projects", "json"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(nlohmann::json body, JsonObjectBody(req));
        SEGHUB_ASSIGN_OR_RETURN(std::string name, ReqString(body, "name"));
        SEGHUB_ASSIGN_OR_RETURN(auto description, OptString(body, "description"));
        SEGHUB_ASSIGN_OR_RETURN(
            hub::Project p, ctx->hub().projects().Create(user.id, name, description.value_or("")));
        return JsonResponse(201, ProjectJson(ctx, p));
      }));
  SEGHUB_RETURN_IF_ERROR(
      AddAuthed(ctx, "GET", "/api/projects/{id}", "api", {"One project", "projects"},
                [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
                  SEGHUB_ASSIGN_OR_RETURN(hub::Project p,
                                          ctx->hub().projects().Get(user.id, req.Param("id")));
                  return JsonResponse(200, ProjectJson(ctx, p));
                }));
  SEGHUB_RETURN_IF_ERROR(AddAuthed(
      ctx, "PATCH", "/api/projects/{id}", "api",
      {"Rename or describe a project", "projects", "json"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(nlohmann::json body, JsonObjectBody(req));
        SEGHUB_ASSIGN_OR_RETURN(auto name, OptString(body, "name"));
        SEGHUB_ASSIGN_OR_RETURN(auto description, OptString(body, "description"));
        SEGHUB_ASSIGN_OR_RETURN(hub::Project p, ctx->hub().projects().Update(
                                                    user.id, req.Param("id"), name, description));
        return JsonResponse(200, ProjectJson(ctx, p));
      }));
  return AddAuthed(
      ctx, "DELETE", "/api/projects/{id}", "api",
      {"Delete a project with its images (owner)", "projects"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        std::string id = req.Param("id");
        SEGHUB_RETURN_IF_ERROR(ctx->hub().projects().Require(user.id, id, Role::kOwner).status());
        // Stop its running work first so no job writes into a deleted project.
        SEGHUB_RETURN_IF_ERROR(ctx->hub().CancelProject(user.id, id).status());
        SEGHUB_RETURN_IF_ERROR(ctx->hub().projects().Delete(user.id, id));
        return NoContent();
      });
}

Status RegisterSharing(const CtxPtr& ctx) {
  SEGHUB_RETURN_IF_ERROR(AddAuthed(
      ctx, "GET", "/api/projects/{id}/shares", "api", {"Who the project is shared with", "sharing"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(auto shares,
                                ctx->hub().projects().ListShares(user.id, req.Param("id")));
        nlohmann::json list = nlohmann::json::array();
        for (const hub::Share& s : shares) list.push_back(ShareJson(s));
        return JsonResponse(200, {{"shares", list}});
      }));
  SEGHUB_RETURN_IF_ERROR(AddAuthed(
      ctx, "POST", "/api/projects/{id}/shares", "api",
      {"Share with a user by e-mail as viewer or editor (owner)", "sharing", "json"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(nlohmann::json body, JsonObjectBody(req));
        SEGHUB_ASSIGN_OR_RETURN(std::string email, ReqString(body, "email"));
        SEGHUB_ASSIGN_OR_RETURN(std::string role_name, ReqString(body, "role"));
        SEGHUB_ASSIGN_OR_RETURN(Role role, hub::ParseShareRole(role_name));
        SEGHUB_ASSIGN_OR_RETURN(
            hub::Share s, ctx->hub().projects().AddShare(user.id, req.Param("id"), email, role));
        return JsonResponse(201, ShareJson(s));
      }));
  SEGHUB_RETURN_IF_ERROR(
      AddAuthed(ctx, "DELETE", "/api/projects/{id}/shares/{share_id}", "api",
                {"Remove a share (owner)", "sharing"},
                [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
                  SEGHUB_RETURN_IF_ERROR(ctx->hub().projects().RemoveShare(user.id, req.Param("id"),
                                                                           req.Param("share_id")));
                  return NoContent();
                }));
  SEGHUB_RETURN_IF_ERROR(AddAuthed(
      ctx, "POST", "/api/projects/{id}/share-links", "api",
      {"A link that lets whoever opens it join with a role (owner)", "sharing", "json"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(nlohmann::json body, JsonObjectBody(req));
        SEGHUB_ASSIGN_OR_RETURN(auto role_name, OptString(body, "role"));
        SEGHUB_ASSIGN_OR_RETURN(Role role, hub::ParseShareRole(role_name.value_or("viewer")));
        SEGHUB_ASSIGN_OR_RETURN(std::string token, ctx->hub().projects().CreateShareLink(
                                                       user.id, req.Param("id"), role));
        return JsonResponse(201, {{"token", token}, {"url", "/#/share/" + token}});
      }));
  return AddAuthed(ctx, "POST", "/api/share-links/{token}/accept", "api",
                   {"Join a project through a share link", "sharing"},
                   [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
                     SEGHUB_ASSIGN_OR_RETURN(hub::Project p, ctx->hub().projects().AcceptShareLink(
                                                                 user.id, req.Param("token")));
                     return JsonResponse(200, ProjectJson(ctx, p));
                   });
}

}  // namespace

Status RegisterProjectRoutes(const CtxPtr& ctx) {
  SEGHUB_RETURN_IF_ERROR(RegisterCrud(ctx));
  return RegisterSharing(ctx);
}

}  // namespace seghub::api::hubsvc
