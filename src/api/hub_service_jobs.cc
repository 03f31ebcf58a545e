// Segmentation jobs (/api/projects/{id}/segment, queue, cancel; /api/jobs/{id}) and exports.
#include <fstream>

#include "api/hub_service_context.h"
#include "hub/image_service.h"

namespace seghub::api::hubsvc {
namespace {

nlohmann::json CountsJson(const hub::QueueCounts& q) {
  return {{"queued", q.queued}, {"processing", q.processing}, {"done", q.done},
          {"failed", q.failed}, {"cancelled", q.cancelled},   {"total", q.total()}};
}

nlohmann::json JobJson(const hub::JobInfo& j) {
  nlohmann::json out = {{"id", j.id},
                        {"batch_id", j.batch_id},
                        {"image_id", j.image_id},
                        {"project_id", j.project_id},
                        {"model", j.model},
                        {"status", j.status},
                        {"priority", j.priority},
                        {"attempts", j.attempts},
                        {"created_at", hub::Iso8601(j.created_at_ms)},
                        {"updated_at", hub::Iso8601(j.updated_at_ms)}};
  if (!j.error.empty()) out["error"] = j.error;
  if (j.finished_at_ms) out["finished_at"] = hub::Iso8601(*j.finished_at_ms);
  return out;
}

Result<hub::SegmentSubmission> ParseSubmission(const nlohmann::json& body) {
  hub::SegmentSubmission s;
  if (body.contains("image_ids") && !body["image_ids"].is_null()) {
    if (!body["image_ids"].is_array()) return InvalidArgument("field 'image_ids' must be an array");
    for (const nlohmann::json& id : body["image_ids"]) {
      if (!id.is_string()) return InvalidArgument("field 'image_ids' must hold strings");
      s.image_ids.push_back(id.get<std::string>());
    }
    if (s.image_ids.size() > 10000) return InvalidArgument("at most 10000 images per batch");
  }
  SEGHUB_ASSIGN_OR_RETURN(auto model, OptString(body, "model"));
  s.model = model.value_or("");
  SEGHUB_ASSIGN_OR_RETURN(s.threshold, OptNumber(body, "threshold"));
  SEGHUB_ASSIGN_OR_RETURN(auto holes, OptBool(body, "detect_holes"));
  s.detect_holes = holes.value_or(true);
  SEGHUB_ASSIGN_OR_RETURN(s.scale, OptNumber(body, "scale"));
  if (s.scale) SEGHUB_RETURN_IF_ERROR(pipeline::CheckScale(*s.scale, "field 'scale'"));
  SEGHUB_ASSIGN_OR_RETURN(auto priority, OptNumber(body, "priority"));
  if (priority && (*priority != static_cast<int>(*priority) || *priority < 0 || *priority > 10)) {
    return InvalidArgument("field 'priority' must be an integer in 0..10");
  }
  s.priority = static_cast<int>(priority.value_or(0));
  SEGHUB_ASSIGN_OR_RETURN(auto force, OptBool(body, "force"));
  s.force = force.value_or(false);
  return s;
}

Status RegisterJobs(const CtxPtr& ctx) {
  SEGHUB_RETURN_IF_ERROR(AddAuthed(
      ctx, "POST", "/api/projects/{id}/segment", "segmentation",
      {"Queue segmentation of the project's images", "jobs", "json"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(nlohmann::json body, JsonObjectBody(req));
        SEGHUB_ASSIGN_OR_RETURN(hub::SegmentSubmission s, ParseSubmission(body));
        SEGHUB_ASSIGN_OR_RETURN(hub::SubmitResult r,
                                ctx->hub().Submit(user.id, req.Param("id"), s));
        return JsonResponse(
            202, {{"batch_id", r.batch_id}, {"queued", r.queued}, {"skipped", r.skipped}});
      }));
  SEGHUB_RETURN_IF_ERROR(AddAuthed(
      ctx, "GET", "/api/projects/{id}/queue", "api", {"Job counts of the project", "jobs"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(hub::QueueCounts q,
                                ctx->hub().ProjectQueue(user.id, req.Param("id")));
        return JsonResponse(200, CountsJson(q));
      }));
  SEGHUB_RETURN_IF_ERROR(AddAuthed(
      ctx, "POST", "/api/projects/{id}/cancel", "api",
      {"Cancel the project's queued and running jobs", "jobs"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(int64_t n, ctx->hub().CancelProject(user.id, req.Param("id")));
        return JsonResponse(200, {{"cancelled", n}});
      }));
  SEGHUB_RETURN_IF_ERROR(AddAuthed(
      ctx, "GET", "/api/jobs/{id}", "api", {"One job", "jobs"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(hub::JobInfo j, ctx->hub().GetJob(user.id, req.Param("id")));
        return JsonResponse(200, JobJson(j));
      }));
  return AddAuthed(
      ctx, "POST", "/api/jobs/{id}/cancel", "api", {"Cancel a queued or running job", "jobs"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(int64_t n, ctx->hub().CancelJob(user.id, req.Param("id")));
        return JsonResponse(200, {{"cancelled", n}});
      });
}

Result<hub::ExportOptions> ParseExport(const nlohmann::json& body) {
  hub::ExportOptions o;
  if (!body.contains("formats") || !body["formats"].is_array()) {
    return InvalidArgument("field 'formats' must be an array, e.g. [\"coco\", \"csv\"]");
  }
  for (const nlohmann::json& f : body["formats"]) {
    if (!f.is_string()) return InvalidArgument("field 'formats' must hold strings");
    o.formats.push_back(f.get<std::string>());
  }
  SEGHUB_ASSIGN_OR_RETURN(auto originals, OptBool(body, "include_originals"));
  o.include_originals = originals.value_or(false);
  SEGHUB_ASSIGN_OR_RETURN(auto overlays, OptBool(body, "include_overlays"));
  o.include_overlays = overlays.value_or(false);
  SEGHUB_ASSIGN_OR_RETURN(auto scale, OptNumber(body, "um_per_px"));
  if (scale && (*scale < 0 || *scale > 1e6))
    return InvalidArgument("field 'um_per_px' must be >= 0");
  o.um_per_px = scale.value_or(0.0);
  return o;
}

Status RegisterExports(const CtxPtr& ctx) {
  SEGHUB_RETURN_IF_ERROR(
      AddAuthed(ctx, "POST", "/api/projects/{id}/exports", "api",
                {"Start a background export (ZIP)", "exports", "json"},
                [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
                  SEGHUB_ASSIGN_OR_RETURN(nlohmann::json body, JsonObjectBody(req));
                  SEGHUB_ASSIGN_OR_RETURN(hub::ExportOptions o, ParseExport(body));
                  SEGHUB_ASSIGN_OR_RETURN(hub::ExportInfo e,
                                          ctx->hub().exports().Start(user.id, req.Param("id"), o));
                  return JsonResponse(202, hub::ExportInfoToJson(e));
                }));
  SEGHUB_RETURN_IF_ERROR(
      AddAuthed(ctx, "GET", "/api/exports/{id}", "api", {"Export status and progress", "exports"},
                [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
                  SEGHUB_ASSIGN_OR_RETURN(hub::ExportInfo e,
                                          ctx->hub().exports().Get(user.id, req.Param("id")));
                  return JsonResponse(200, hub::ExportInfoToJson(e));
                }));
  SEGHUB_RETURN_IF_ERROR(AddAuthed(
      ctx, "GET", "/api/exports/{id}/download", "api",
      {"The finished ZIP", "exports", "", {}, "application/zip"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(auto file, ctx->hub().exports().Download(user.id, req.Param("id")));
        std::ifstream in(file.first, std::ios::binary);
        if (!in) return Internal("the export file is missing; start the export again");
        HttpResponse r;
        r.content_type = "application/zip";
        r.body.assign(std::istreambuf_iterator<char>(in), {});
        r.headers["Content-Disposition"] = "attachment; filename=\"" + file.second + "\"";
        return r;
      }));
  return AddAuthed(ctx, "POST", "/api/exports/{id}/cancel", "api", {"Cancel an export", "exports"},
                   [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
                     SEGHUB_ASSIGN_OR_RETURN(hub::ExportInfo e,
                                             ctx->hub().exports().Cancel(user.id, req.Param("id")));
                     return JsonResponse(200, hub::ExportInfoToJson(e));
                   });
}

}  // namespace

Status RegisterJobRoutes(const CtxPtr& ctx) { return RegisterJobs(ctx); }
Status RegisterExportRoutes(const CtxPtr& ctx) { return RegisterExports(ctx); }

}  // namespace seghub::api::hubsvc
