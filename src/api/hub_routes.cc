#include "api/hub_routes.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <vector>

#include "api/http_status.h"
#include "api/multipart.h"
#include "api/request_params.h"
#include "imaging/shape_metrics.h"
#include "pipeline/segment_export.h"

namespace seghub::api {
namespace {

using nlohmann::json;
using pipeline::SegmentRequest;
using pipeline::SegmentResult;

struct Upload {
  std::string filename;
  std::string data;
};

struct ParsedUpload {
  std::vector<Upload> files;
  Params params;
};

bool IsFileField(const MultipartPart& p) {
  return !p.filename.empty() || p.name == "file" || p.name == "files" || p.name == "files[]";
}

// Multipart form (files + fields), or a raw image body with parameters in the query string.
Result<ParsedUpload> ParseUpload(HttpRequest& req) {
  ParsedUpload out;
  const std::string type = req.Header("Content-Type");
  if (IsMultipart(type)) {
    SEGHUB_ASSIGN_OR_RETURN(std::vector<MultipartPart> parts, ParseMultipart(type, req.body));
    Params fields;
    for (MultipartPart& p : parts) {
      if (IsFileField(p)) {
        out.files.push_back({p.filename.empty() ? p.name : p.filename, std::move(p.data)});
      } else {
        fields[p.name] = p.data;
      }
    }
    out.params = MergeParams(req, fields);
  } else {
    out.params = MergeParams(req, {});
    if (!req.body.empty()) {
      out.files.push_back({StringOr(out.params, "filename", "image"), std::move(req.body)});
    }
  }
  return out;
}

Result<SegmentRequest> ParseSegmentParams(const Params& p, const HttpRequest& req,
                                          std::chrono::seconds timeout) {
  SegmentRequest r;
  r.model = StringOr(p, "model", "");
  SEGHUB_ASSIGN_OR_RETURN(auto threshold, OptionalNumber(p, "threshold", 0.0, 1.0));
  if (threshold) {
    if (*threshold <= 0.0 || *threshold >= 1.0) {
      return InvalidArgument("field 'threshold' must lie strictly between 0 and 1");
    }
    r.threshold = static_cast<float>(*threshold);
  }
  SEGHUB_ASSIGN_OR_RETURN(auto holes, OptionalBool(p, "detect_holes"));
  r.detect_holes = holes.value_or(true);
  SEGHUB_ASSIGN_OR_RETURN(r.min_area, OptionalNumber(p, "min_area", 0.0, 1e12));
  SEGHUB_ASSIGN_OR_RETURN(auto simplify, OptionalNumber(p, "simplify", 0.0, 1000.0));
  r.simplify_epsilon = simplify.value_or(0.0);
  SEGHUB_ASSIGN_OR_RETURN(auto pixel_size, OptionalNumber(p, "pixel_size", 0.0, 1e6));
  r.um_per_px = pixel_size.value_or(0.0);
  SEGHUB_ASSIGN_OR_RETURN(r.scale, OptionalNumber(p, "scale", 0.0, pipeline::kMaxScale));
  SEGHUB_ASSIGN_OR_RETURN(r.separate_instances, OptionalBool(p, "instances"));
  SEGHUB_ASSIGN_OR_RETURN(auto metrics, OptionalBool(p, "metrics"));
  r.compute_metrics = metrics.value_or(true);
  SEGHUB_ASSIGN_OR_RETURN(auto priority, OptionalInt(p, "priority", 0, 10));
  r.priority = priority.value_or(0);
  SEGHUB_ASSIGN_OR_RETURN(auto page, OptionalInt(p, "page", 0, 1'000'000));
  r.page = page.value_or(0);
  r.client_id = ClientId(req);
  r.deadline = std::chrono::steady_clock::now() + timeout;
  return r;
}

class HubApi {
 public:
  explicit HubApi(HubRoutesOptions o) : o_(std::move(o)) {}

  // The Hub answers 400 for an unknown model; list what exists so the caller can fix it.
  Result<engine::ModelStatus> CheckModel(const std::string& name) const {
    auto m = o_.segmenter->ResolveModel(name);
    if (m.ok()) return m;
    if (m.status().code() != StatusCode::kNotFound) return m.status();
    std::string names;
    for (const auto& s : o_.engine->ListModels()) {
      if (s.config.task != "segmentation") continue;
      names += (names.empty() ? "" : ", ") + s.config.name;
    }
    return InvalidArgument("unknown model '" +
                           (name.empty() ? o_.segmenter->default_model() : name) +
                           "'; available: " + names);
  }

  void Segment(HttpRequest&& req, Responder resp) const {
    auto upload = ParseUpload(req);
    if (!upload.ok()) return resp.SendStatus(upload.status());
    if (upload->files.size() != 1) {
      return resp.SendStatus(InvalidArgument(
          "expected exactly one image in the multipart field 'file' (or as the raw body), got " +
          std::to_string(upload->files.size())));
    }
    auto sreq = ParseSegmentParams(upload->params, req, o_.request_timeout);
    if (!sreq.ok()) return resp.SendStatus(sreq.status());
    auto model = CheckModel(sreq->model);
    if (!model.ok()) return resp.SendStatus(model.status());
    std::string format = StringOr(upload->params, "format", "hub");
    const auto formats = pipeline::ExportFormats();
    if (std::find(formats.begin(), formats.end(), format) == formats.end()) {
      return resp.SendStatus(pipeline::RenderExport({}, format, "").status());
    }
    sreq->keep_image = pipeline::FormatNeedsImage(format);
    std::string name = upload->files[0].filename;
    Status s = o_.segmenter->Segment(
        std::move(upload->files[0].data), std::move(*sreq),
        [resp, format, name](Result<SegmentResult> r) { SendResult(resp, format, name, r); });
    if (!s.ok()) resp.SendStatus(s);
  }

  // Runs on a SegmentService pool thread, so serialisation never blocks an io thread.
  static void SendResult(const Responder& resp, const std::string& format, const std::string& name,
                         const Result<SegmentResult>& r) {
    if (!r.ok()) return resp.SendStatus(r.status());
    if (format == "hub") {
      return resp.Send(HttpResponse::Json(200, pipeline::SegmentResultToHubJson(*r)));
    }
    auto rendered = pipeline::RenderExport(*r, format, name);
    if (!rendered.ok()) return resp.SendStatus(rendered.status());
    HttpResponse out;
    out.status = 200;
    out.content_type = rendered->content_type;
    out.body = std::move(rendered->body);
    // Only safe characters reach the header: a client-chosen file name must not inject headers.
    std::string stem;
    for (char c : name.substr(0, name.rfind('.'))) {
      stem.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_');
    }
    out.headers["Content-Disposition"] = "attachment; filename=\"" +
                                         (stem.empty() ? "image" : stem) +
                                         rendered->file_extension + "\"";
    resp.Send(std::move(out));
  }

  void BatchSegment(HttpRequest&& req, Responder resp) const;
  HttpResponse Models() const;
  HttpResponse Status_() const;
  HttpResponse Health() const;

 private:
  HubRoutesOptions o_;
};

// Shared by the per-image callbacks of one batch request; the last one answers.
struct BatchState {
  std::mutex mu;
  std::vector<json> results;  // guarded by mu
  size_t remaining = 0;       // guarded by mu
  int ok = 0;                 // guarded by mu
  int total_polygons = 0;     // guarded by mu
  std::string model;
  float threshold = 0.5f;
  std::chrono::steady_clock::time_point start;
  Responder resp;
  explicit BatchState(Responder r) : resp(std::move(r)) {}

  void Done(size_t i, const std::string& filename, Result<SegmentResult> r) {
    json item = r.ok() ? pipeline::SegmentResultToHubJson(*r)
                       : json{{"success", false}, {"error", r.status().message()}};
    item["filename"] = filename;
    item["batch_index"] = i;
    std::lock_guard<std::mutex> lock(mu);
    if (r.ok()) {
      ++ok;
      total_polygons += static_cast<int>(r->polygons.size());
      threshold = r->threshold;
    }
    results[i] = std::move(item);
    if (--remaining == 0) Send();
  }

  void Send() {  // mu held
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int n = static_cast<int>(results.size());
    resp.Send(HttpResponse::Json(200, {{"success", ok == n},
                                       {"batch_size", n},
                                       {"successful_count", ok},
                                       {"failed_count", n - ok},
                                       {"total_polygons", total_polygons},
                                       {"model_used", model},
                                       {"threshold_used", threshold},
                                       {"processing_time", elapsed},
                                       {"results", results}}));
  }
};

void HubApi::BatchSegment(HttpRequest&& req, Responder resp) const {
  auto upload = ParseUpload(req);
  if (!upload.ok()) return resp.SendStatus(upload.status());
  if (upload->files.empty()) {
    return resp.SendStatus(InvalidArgument("no images in the multipart field 'files'"));
  }
  if (static_cast<int>(upload->files.size()) > o_.max_batch_files) {
    return resp.SendStatus(InvalidArgument("at most " + std::to_string(o_.max_batch_files) +
                                           " files per batch request, got " +
                                           std::to_string(upload->files.size())));
  }
  auto sreq = ParseSegmentParams(upload->params, req, o_.request_timeout);
  if (!sreq.ok()) return resp.SendStatus(sreq.status());
  auto model = CheckModel(sreq->model);
  if (!model.ok()) return resp.SendStatus(model.status());
  auto state = std::make_shared<BatchState>(resp);
  state->model = model->config.name;
  state->threshold = sreq->threshold.value_or(model->config.recommended_threshold);
  state->start = std::chrono::steady_clock::now();
  const size_t n = upload->files.size();
  {
    std::lock_guard<std::mutex> lock(state->mu);
    state->results.resize(n);
    state->remaining = n;
  }
  for (size_t i = 0; i < n; ++i) {
    std::string filename = upload->files[i].filename;
    Status s = o_.segmenter->Segment(
        std::move(upload->files[i].data), *sreq,
        [state, i, filename](Result<SegmentResult> r) { state->Done(i, filename, std::move(r)); });
    if (!s.ok()) state->Done(i, filename, s);
  }
}

}  // namespace

namespace {

HttpResponse HubApi::Models() const {
  json models = json::object();
  for (const engine::ModelStatus& s : o_.engine->ListModels()) {
    const engine::ModelConfig& c = s.config;
    if (c.task != "segmentation") continue;
    int optimal = c.batching.preferred_batch_sizes.empty()
                      ? c.batching.max_batch_size
                      : c.batching.preferred_batch_sizes.back();
    json input_size = c.input.size.empty() ? json(nullptr) : json(c.input.size);
    models[c.name] = {
        {"name", c.name},
        {"description", c.description},
        {"has_pretrained", c.has_weights()},
        {"has_finetuned", false},
        {"recommended_threshold", c.recommended_threshold},
        {"optimal_batch_size", optimal},
        {"max_safe_batch_size",
         s.effective_max_batch > 0 ? s.effective_max_batch : c.batching.max_batch_size},
        {"expected_throughput", nullptr},
        {"architecture", c.architecture},
        {"state", engine::ModelStateName(s.state)},
        {"device", s.device},
        {"input_size", input_size},
        {"resize", c.input.resize},
        {"instances", c.postprocess.instances}};
  }
  return HttpResponse::Json(200,
                            {{"models", models}, {"default_model", o_.segmenter->default_model()}});
}

HttpResponse HubApi::Status_() const {
  int queued = o_.segmenter->pending();
  std::string current;
  for (const engine::ModelStatus& s : o_.engine->ListModels()) {
    queued += s.pending;
    if (s.in_flight > 0 && current.empty()) current = s.config.name;
  }
  bool processing = queued > 0 || !current.empty();
  return HttpResponse::Json(200,
                            {{"status", processing ? "processing" : "idle"},
                             {"is_processing", processing},
                             {"current_model", current.empty() ? json(nullptr) : json(current)},
                             {"queue_length", queued},
                             {"available", o_.engine->Ready()},
                             {"timestamp", NowIso8601()}});
}

HttpResponse HubApi::Health() const {
  json failed = json::array();
  for (const engine::ModelStatus& s : o_.engine->ListModels()) {
    if (s.state == engine::ModelState::kFailed) failed.push_back(s.config.name);
  }
  return HttpResponse::Json(200, {{"status", failed.empty() ? "healthy" : "degraded"},
                                  {"timestamp", NowIso8601()},
                                  {"service", "seghub"},
                                  {"version", o_.version},
                                  {"device",
                                   {{"gpu_available", o_.gpu_available},
                                    {"device_count", o_.gpu_available ? 1 : 0},
                                    {"device_name", o_.device_name}}},
                                  {"models_failed", failed}});
}

// {contour, holes?} -> metrics; `um_per_px` from the query's pixel_size.
Result<json> MetricsFor(const json& item, double um_per_px) {
  SEGHUB_ASSIGN_OR_RETURN(imaging::ShapeMetrics m,
                          imaging::ComputeShapeMetricsFromJson(item, um_per_px));
  return imaging::ToJson(m);
}

Result<double> PixelSize(const HttpRequest& req) {
  SEGHUB_ASSIGN_OR_RETURN(auto v, OptionalNumber(req.query, "pixel_size", 0.0, 1e6));
  if (v && *v == 0.0) return InvalidArgument("field 'pixel_size' must be > 0");
  return v.value_or(1.0);
}

HttpResponse CalculateMetrics(const HttpRequest& req) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return StatusToResponse(InvalidArgument("request body is not valid JSON"));
  }
  auto scale = PixelSize(req);
  if (!scale.ok()) return StatusToResponse(scale.status());
  auto m = MetricsFor(body, *scale);
  if (!m.ok()) return StatusToResponse(m.status());
  return HttpResponse::Json(200, *m);
}

HttpResponse BatchCalculateMetrics(const HttpRequest& req) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return StatusToResponse(InvalidArgument("request body is not valid JSON"));
  }
  // The Hub posts a bare list; {"polygons": [...]} is accepted too.
  if (body.is_object() && body.contains("polygons")) body = body["polygons"];
  if (!body.is_array()) {
    return StatusToResponse(InvalidArgument("expected a JSON list of {contour, holes?} objects"));
  }
  auto scale = PixelSize(req);
  if (!scale.ok()) return StatusToResponse(scale.status());
  json out = json::array();
  for (const json& item : body) {
    auto m = MetricsFor(item, *scale);
    out.push_back(m.ok() ? *m : json{{"error", m.status().message()}});
  }
  return HttpResponse::Json(200, out);
}

}  // namespace

Status RegisterHubRoutes(Router* router, HubRoutesOptions options) {
  if (!options.engine || !options.segmenter) {
    return InvalidArgument("hub routes need an engine and a segmenter");
  }
  auto api = std::make_shared<HubApi>(std::move(options));
  SEGHUB_RETURN_IF_ERROR(router->AddSync("GET", "/api/v1/health",
                                         [api](const HttpRequest&) { return api->Health(); }));
  SEGHUB_RETURN_IF_ERROR(
      router->AddSync("GET", "/api/models", [api](const HttpRequest&) { return api->Models(); }));
  SEGHUB_RETURN_IF_ERROR(router->AddSync("GET", "/api/v1/models",
                                         [api](const HttpRequest&) { return api->Models(); }));
  SEGHUB_RETURN_IF_ERROR(router->AddSync("GET", "/api/v1/status",
                                         [api](const HttpRequest&) { return api->Status_(); }));
  SEGHUB_RETURN_IF_ERROR(router->Add(
      "POST", "/api/v1/segment",
      [api](HttpRequest&& req, Responder resp) { api->Segment(std::move(req), std::move(resp)); }));
  SEGHUB_RETURN_IF_ERROR(
      router->Add("POST", "/api/v1/batch-segment", [api](HttpRequest&& req, Responder resp) {
        api->BatchSegment(std::move(req), std::move(resp));
      }));
  SEGHUB_RETURN_IF_ERROR(router->AddSync("POST", "/api/calculate-metrics", CalculateMetrics));
  SEGHUB_RETURN_IF_ERROR(
      router->AddSync("POST", "/api/batch-calculate-metrics", BatchCalculateMetrics));
  return Status::Ok();
}

}  // namespace seghub::api
