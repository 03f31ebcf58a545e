#include "api/pd_routes.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>
#include <utility>

#include "api/http_status.h"
#include "api/multipart.h"
#include "pipeline/pd_service.h"
#include "signals/signal_io.h"

namespace seghub::api {
namespace {

using Params = std::map<std::string, std::string>;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// "text/csv; charset=utf-8" -> "text/csv".
std::string MediaType(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  return Lower(t);
}

bool HasNpyMagic(std::string_view data) { return data.substr(0, 6) == "\x93NUMPY"; }

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The file's bytes plus what is known about them.
struct Payload {
  std::string_view data;
  std::string media_type;
  std::string filename;  // multipart only
};

Result<signals::SignalFormat> DetectFormat(const Payload& p, const Params& params) {
  if (auto it = params.find("format"); it != params.end()) {
    const std::string f = Lower(it->second);
    if (f == "npy") return signals::SignalFormat::kNpy;
    if (f == "csv") return signals::SignalFormat::kCsv;
    if (f == "raw" || f == "f32" || f == "float32") return signals::SignalFormat::kRawFloat32;
    return InvalidArgument("format must be npy, csv or raw (got '" + it->second + "')");
  }
  const std::string name = Lower(p.filename);
  if (HasNpyMagic(p.data) || p.media_type == "application/x-npy" || EndsWith(name, ".npy")) {
    return signals::SignalFormat::kNpy;
  }
  if (p.media_type == "text/csv" || p.media_type == "text/plain" || EndsWith(name, ".csv") ||
      EndsWith(name, ".txt")) {
    return signals::SignalFormat::kCsv;
  }
  if (p.media_type == "application/octet-stream" || EndsWith(name, ".raw") ||
      EndsWith(name, ".bin") || EndsWith(name, ".f32")) {
    return signals::SignalFormat::kRawFloat32;
  }
  return InvalidArgument("cannot tell the signal format of '" +
                         (p.filename.empty() ? p.media_type : p.filename) +
                         "': send Content-Type application/x-npy, text/csv or "
                         "application/octet-stream, or pass format=npy|csv|raw");
}

Result<signals::Signals> ParseSignals(const Payload& p, const Params& params) {
  if (p.data.empty()) return InvalidArgument("the signal file is empty");
  SEGHUB_ASSIGN_OR_RETURN(signals::SignalFormat format, DetectFormat(p, params));
  switch (format) {
    case signals::SignalFormat::kNpy:
      return signals::ParseNpy(p.data);
    case signals::SignalFormat::kRawFloat32:
      return signals::ParseRawFloat32(p.data);
    default:
      break;
  }
  signals::CsvOptions csv;
  if (auto it = params.find("csv_layout"); it != params.end()) {
    const std::string layout = Lower(it->second);
    if (layout == "columns") {
      csv.layout = signals::CsvLayout::kColumns;
    } else if (layout != "rows") {
      return InvalidArgument("csv_layout must be rows or columns (got '" + it->second + "')");
    }
  }
  return signals::ParseCsv(p.data, csv);
}

// A finite number in [lo, hi], or `fallback` when the parameter is absent.
Result<double> NumberParam(const Params& params, const std::string& name, double fallback,
                           double lo, double hi) {
  auto it = params.find(name);
  if (it == params.end() || it->second.empty()) return fallback;
  size_t used = 0;
  double v = 0.0;
  try {
    v = std::stod(it->second, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != it->second.size() || !std::isfinite(v) || v < lo || v > hi) {
    return InvalidArgument(name + " must be a number in [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "] (got '" + it->second + "')");
  }
  return v;
}

Status ApplyParams(const Params& params, pipeline::PdRequest* r) {
  SEGHUB_ASSIGN_OR_RETURN(r->regions.sample_rate_hz,
                          NumberParam(params, "sample_rate", 0.0, 0.0, 1e12));
  SEGHUB_ASSIGN_OR_RETURN(r->regions.probability_threshold,
                          NumberParam(params, "threshold", 0.5, 0.0, 1.0));
  SEGHUB_ASSIGN_OR_RETURN(r->regions.min_peak_amplitude,
                          NumberParam(params, "min_amplitude", 0.2, 0.0, 1.0));
  SEGHUB_ASSIGN_OR_RETURN(r->regions.min_snr, NumberParam(params, "min_snr", 0.0, 0.0, 1e6));
  SEGHUB_ASSIGN_OR_RETURN(double min_start, NumberParam(params, "min_start", 1.0, 0.0, 1e12));
  r->regions.min_start = static_cast<size_t>(min_start);
  for (auto [name, field] :
       {std::pair{"merge_gap", &r->merge_gap}, {"min_length", &r->min_length}}) {
    if (!params.contains(name)) continue;  // the model's value
    SEGHUB_ASSIGN_OR_RETURN(double v, NumberParam(params, name, 0.0, 0.0, 1e9));
    *field = static_cast<size_t>(v);
  }
  SEGHUB_ASSIGN_OR_RETURN(r->preprocess.clip, NumberParam(params, "clip", 800000.0, 0.0, 1e300));
  SEGHUB_ASSIGN_OR_RETURN(double max_points, NumberParam(params, "max_points", 2000.0, 2.0, 1e7));
  r->max_points = static_cast<size_t>(max_points);
  return Status::Ok();
}

// Parses body and parameters of an analyze request (io thread; no signal processing).
Result<pipeline::PdRequest> ParseAnalyzeRequest(const HttpRequest& req) {
  Params params = req.query;
  const std::string content_type = req.Header("Content-Type");
  std::vector<MultipartPart> parts;
  Payload payload{req.body, MediaType(content_type), ""};
  if (IsMultipart(content_type)) {
    SEGHUB_ASSIGN_OR_RETURN(parts, ParseMultipart(content_type, req.body));
    for (const auto& [k, v] : FormFields(parts)) params[k] = v;  // form fields win
    const MultipartPart* file = nullptr;
    for (const auto& part : parts) {
      if (part.name == "file") file = &part;
    }
    for (const auto& part : parts) {
      if (file == nullptr && !part.filename.empty()) file = &part;
    }
    if (file == nullptr) return InvalidArgument("multipart upload without a `file` field");
    payload = Payload{file->data, MediaType(file->content_type), file->filename};
  } else if (req.body.empty()) {
    return InvalidArgument(
        "empty body: upload a signal file (multipart field `file`, or the raw body)");
  }
  pipeline::PdRequest r;
  SEGHUB_ASSIGN_OR_RETURN(r.signals, ParseSignals(payload, params));
  SEGHUB_RETURN_IF_ERROR(ApplyParams(params, &r));
  const std::string& addr = req.remote_address;
  r.client_id = addr.substr(0, addr.rfind(':'));  // fairness per client host
  return r;
}

struct PdRoutesState {
  // Declared before the pool so that the pool, destroyed first, finishes its queued tasks
  // (which use the service) while the service still exists.
  std::unique_ptr<pipeline::PdService> service;
  std::unique_ptr<pipeline::TaskPool> owned_pool;
  engine::Engine* engine = nullptr;
  std::string model;
};

void Analyze(const std::shared_ptr<PdRoutesState>& state, HttpRequest&& req, Responder responder) {
  auto request = ParseAnalyzeRequest(req);
  if (!request.ok()) return responder.SendStatus(request.status());
  Status st =
      state->service->Analyse(std::move(request).value(), [responder](Result<nlohmann::json> r) {
        if (!r.ok()) return responder.SendStatus(r.status());
        responder.Send(HttpResponse::Json(200, *r));
      });
  if (!st.ok()) responder.SendStatus(st);
}

HttpResponse Healthz(const PdRoutesState& state) {
  auto model = state.engine->GetModel(state.model);
  nlohmann::json body = {{"status", "ok"}, {"model", state.model}};
  body["model_state"] =
      model.ok() ? std::string(engine::ModelStateName(model->state)) : std::string("missing");
  body["model_has_weights"] = model.ok() && model->has_weights;
  return HttpResponse::Json(200, body);
}

}  // namespace

Status RegisterPdRoutes(Router* router, PdRoutesOptions options) {
  if (options.engine == nullptr) return InvalidArgument("PD routes need an engine");
  auto state = std::make_shared<PdRoutesState>();
  pipeline::TaskPool* pool = options.pool;
  if (pool == nullptr) {
    state->owned_pool = std::make_unique<pipeline::TaskPool>(std::max(1, options.pool_threads),
                                                             std::max(1, options.pool_queue));
    pool = state->owned_pool.get();
  }
  state->engine = options.engine;
  state->model = options.model;
  state->service = std::make_unique<pipeline::PdService>(options.engine, options.model, pool);
  SEGHUB_RETURN_IF_ERROR(
      router->Add("POST", "/api/v1/pd/analyze", [state](HttpRequest&& req, Responder responder) {
        Analyze(state, std::move(req), std::move(responder));
      }));
  return router->AddSync("GET", "/healthz",
                         [state](const HttpRequest&) { return Healthz(*state); });
}

}  // namespace seghub::api
