// /api/projects/{id}/images (upload, list) and /api/images/{id}/... (file, thumbnail, preview,
// segmentation versions).
#include "api/hub_service_context.h"
#include "api/multipart.h"
#include "hub/image_service.h"

namespace seghub::api::hubsvc {
namespace {

HttpResponse Bytes(std::string body, std::string type, bool cache) {
  HttpResponse r;
  r.status = 200;
  r.content_type = std::move(type);
  r.body = std::move(body);
  // Image bytes never change for an id; a private cache spares re-downloads in the gallery.
  r.headers["Cache-Control"] = cache ? "private, max-age=3600" : "no-store";
  return r;
}

Result<std::vector<hub::UploadFile>> UploadedFiles(const HttpRequest& req) {
  std::string type = req.Header("Content-Type");
  if (!IsMultipart(type)) {
    return InvalidArgument("send the images as multipart/form-data, field \"files\"");
  }
  SEGHUB_ASSIGN_OR_RETURN(std::vector<MultipartPart> parts, ParseMultipart(type, req.body));
  std::vector<hub::UploadFile> files;
  for (MultipartPart& p : parts) {
    if (p.filename.empty() && p.name != "files" && p.name != "files[]" && p.name != "file") {
      continue;
    }
    files.push_back({p.filename.empty() ? p.name : p.filename, std::move(p.data)});
  }
  return files;
}

void PublishUpload(const CtxPtr& ctx, const hub::User& user, const std::string& project_id,
                   const hub::UploadResult& result, size_t total) {
  std::string batch = std::to_string(SystemClock::Get()->NowUnixMs());
  size_t done = 0;
  for (const hub::ImageInfo& image : result.images) {
    ++done;
    ctx->hub().events().Publish({"uploadProgress",
                                 user.id,
                                 project_id,
                                 {{"projectId", project_id},
                                  {"batchId", batch},
                                  {"filename", image.name},
                                  {"progress", 100},
                                  {"filesCompleted", done},
                                  {"filesTotal", total},
                                  {"percentComplete", 100.0 * done / total}}});
  }
}

Status RegisterUploadAndList(const CtxPtr& ctx) {
  SEGHUB_RETURN_IF_ERROR(AddAuthed(
      ctx, "POST", "/api/projects/{id}/images", "upload",
      {"Upload images (multipart \"files\", up to 100)", "images", "multipart"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(std::vector<hub::UploadFile> files, UploadedFiles(req));
        size_t total = files.size();
        std::string project_id = req.Param("id");
        SEGHUB_ASSIGN_OR_RETURN(hub::UploadResult result,
                                ctx->hub().images().Upload(user.id, project_id, std::move(files)));
        PublishUpload(ctx, user, project_id, result, total);
        nlohmann::json images = nlohmann::json::array();
        for (const hub::ImageInfo& i : result.images) images.push_back(hub::ImageInfoToJson(i));
        nlohmann::json failed = nlohmann::json::array();
        for (const auto& [name, error] : result.failed) {
          failed.push_back({{"filename", name}, {"error", error}});
        }
        // All files rejected: the request as a whole failed.
        int status = result.images.empty() ? 400 : 201;
        nlohmann::json body = {{"images", images}, {"failed", failed}};
        if (status == 400) {
          body["error"] = "no file was accepted";
          body["code"] = "invalid_argument";
          body["detail"] = failed.empty() ? "" : failed[0]["error"];
        }
        return JsonResponse(status, body);
      }));
  return AddAuthed(ctx, "GET", "/api/projects/{id}/images", "api",
                   {"A page of the project's images",
                    "images",
                    "",
                    {"page", "per_page", "sort", "order", "status"}},
                   [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
                     SEGHUB_ASSIGN_OR_RETURN(auto paging, Paging(req, 50, 500));
                     hub::ImageListQuery q;
                     q.page = paging.first;
                     q.per_page = paging.second;
                     q.sort = req.Query("sort").value_or("created_at");
                     std::string order = req.Query("order").value_or("asc");
                     if (order != "asc" && order != "desc")
                       return InvalidArgument("order must be asc or desc");
                     q.descending = order == "desc";
                     q.status = req.Query("status").value_or("");
                     SEGHUB_ASSIGN_OR_RETURN(hub::ImagePage page,
                                             ctx->hub().images().List(user.id, req.Param("id"), q));
                     nlohmann::json list = nlohmann::json::array();
                     for (const hub::ImageInfo& i : page.images)
                       list.push_back(hub::ImageInfoToJson(i));
                     return JsonResponse(200, {{"images", list}, {"total", page.total}});
                   });
}

Status RegisterImageReads(const CtxPtr& ctx) {
  SEGHUB_RETURN_IF_ERROR(
      AddAuthed(ctx, "GET", "/api/images/{id}", "api", {"One image", "images"},
                [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
                  SEGHUB_ASSIGN_OR_RETURN(hub::ImageInfo i,
                                          ctx->hub().images().Get(user.id, req.Param("id")));
                  return JsonResponse(200, hub::ImageInfoToJson(i));
                }));
  SEGHUB_RETURN_IF_ERROR(
      AddAuthed(ctx, "DELETE", "/api/images/{id}", "api", {"Delete an image (editor)", "images"},
                [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
                  SEGHUB_RETURN_IF_ERROR(ctx->hub().images().Delete(user.id, req.Param("id")));
                  return NoContent();
                }));
  SEGHUB_RETURN_IF_ERROR(AddAuthed(
      ctx, "GET", "/api/images/{id}/file", "api",
      {"The original file", "images", "", {}, "application/octet-stream"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(auto file, ctx->hub().images().ReadFile(user.id, req.Param("id")));
        return Bytes(std::move(file.first), file.second, true);
      }));
  SEGHUB_RETURN_IF_ERROR(
      AddAuthed(ctx, "GET", "/api/images/{id}/thumbnail", "api",
                {"JPEG thumbnail, longest side 256 px", "images", "", {}, "image/jpeg"},
                [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
                  SEGHUB_ASSIGN_OR_RETURN(std::string jpeg,
                                          ctx->hub().images().Thumbnail(user.id, req.Param("id")));
                  return Bytes(std::move(jpeg), "image/jpeg", true);
                }));
  return AddAuthed(ctx, "GET", "/api/images/{id}/preview", "api",
                   {"The image as a browser can show it (TIFF and 16-bit converted)",
                    "images",
                    "",
                    {},
                    "image/png"},
                   [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
                     SEGHUB_ASSIGN_OR_RETURN(auto file,
                                             ctx->hub().images().Preview(user.id, req.Param("id")));
                     return Bytes(std::move(file.first), file.second, true);
                   });
}

Status RegisterSegmentations(const CtxPtr& ctx) {
  SEGHUB_RETURN_IF_ERROR(AddAuthed(
      ctx, "GET", "/api/images/{id}/segmentation", "api",
      {"The latest (or ?version=N) segmentation", "segmentations", "", {"version"}},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        std::optional<int64_t> version;
        if (auto v = req.Query("version")) {
          try {
            version = std::stoll(*v);
          } catch (const std::exception&) {
            return InvalidArgument("query 'version' must be an integer");
          }
        }
        SEGHUB_ASSIGN_OR_RETURN(hub::Segmentation s, ctx->hub().images().GetSegmentation(
                                                         user.id, req.Param("id"), version));
        return JsonResponse(200, hub::SegmentationToJson(s, true));
      }));
  SEGHUB_RETURN_IF_ERROR(AddAuthed(
      ctx, "PUT", "/api/images/{id}/segmentation", "api",
      {"Save edited polygons as a new version ({polygons, base_version})", "segmentations", "json"},
      [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
        SEGHUB_ASSIGN_OR_RETURN(nlohmann::json body, JsonObjectBody(req));
        if (!body.contains("polygons")) return InvalidArgument("field 'polygons' is required");
        SEGHUB_ASSIGN_OR_RETURN(auto base, OptNumber(body, "base_version"));
        if (!base) return InvalidArgument("field 'base_version' is required (0 for none)");
        SEGHUB_ASSIGN_OR_RETURN(hub::Segmentation s, ctx->hub().images().SaveEdit(
                                                         user.id, req.Param("id"), body["polygons"],
                                                         static_cast<int64_t>(*base)));
        return JsonResponse(201, hub::SegmentationToJson(s, true));
      }));
  return AddAuthed(ctx, "GET", "/api/images/{id}/segmentation/versions", "api",
                   {"Every saved version, newest first", "segmentations"},
                   [ctx](const HttpRequest& req, const hub::User& user) -> Result<HttpResponse> {
                     SEGHUB_ASSIGN_OR_RETURN(
                         auto versions, ctx->hub().images().ListVersions(user.id, req.Param("id")));
                     nlohmann::json list = nlohmann::json::array();
                     for (const hub::Segmentation& s : versions) {
                       list.push_back(hub::SegmentationToJson(s, false));
                     }
                     return JsonResponse(200, {{"versions", list}});
                   });
}

}  // namespace

Status RegisterImageRoutes(const CtxPtr& ctx) {
  SEGHUB_RETURN_IF_ERROR(RegisterUploadAndList(ctx));
  SEGHUB_RETURN_IF_ERROR(RegisterImageReads(ctx));
  return RegisterSegmentations(ctx);
}

}  // namespace seghub::api::hubsvc
