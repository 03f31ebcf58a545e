#include "api/kserve_routes.h"

#include <memory>
#include <mutex>
#include <vector>

#include "api/http_status.h"
#include "api/request_params.h"

namespace seghub::api {
namespace {

using nlohmann::json;

bool Numeric(const std::string& t) {
  return t == "FP32" || t == "FP64" || t == "FP16" || t == "INT8" || t == "INT16" || t == "INT32" ||
         t == "INT64" || t == "UINT8" || t == "UINT16" || t == "UINT32" || t == "UINT64" ||
         t == "BOOL";
}

// Row-major flattening of nested JSON arrays; false on a non-number leaf.
bool Flatten(const json& j, std::vector<float>* out) {
  if (j.is_array()) {
    for (const json& e : j) {
      if (!Flatten(e, out)) return false;
    }
    return true;
  }
  if (j.is_number()) {
    out->push_back(j.get<float>());
    return true;
  }
  if (j.is_boolean()) {
    out->push_back(j.get<bool>() ? 1.0f : 0.0f);
    return true;
  }
  return false;
}

json DimsWithBatch(const engine::Shape& sample, bool fixed_spatial) {
  json dims = json::array({-1});
  for (size_t i = 0; i < sample.size(); ++i)
    dims.push_back(i == 0 || fixed_spatial ? sample[i] : -1);
  return dims;
}

class KserveApi {
 public:
  explicit KserveApi(KserveRoutesOptions o) : o_(std::move(o)) {}

  HttpResponse Server() const {
    return HttpResponse::Json(200, {{"name", "seghub"},
                                    {"version", o_.version},
                                    {"extensions", json::array({"model_repository"})}});
  }

  HttpResponse Metadata(const HttpRequest& req) const {
    auto m = o_.engine->GetModel(req.Param("model"));
    if (!m.ok()) return StatusToResponse(m.status());
    const engine::ModelConfig& c = m->config;
    const bool fixed = !c.input.size.empty() && c.input.resize != "tile";
    engine::Shape out_shape = c.reference_shape;
    if (!out_shape.empty()) out_shape[0] = c.output.channels;
    return HttpResponse::Json(
        200, {{"name", c.name},
              {"versions", json::array({c.version})},
              {"platform", c.backend == "torch" ? "pytorch_libtorch" : c.backend},
              {"inputs", json::array({{{"name", "input"},
                                       {"datatype", "FP32"},
                                       {"shape", DimsWithBatch(c.reference_shape, fixed)}}})},
              {"outputs", json::array({{{"name", "output"},
                                        {"datatype", "FP32"},
                                        {"shape", DimsWithBatch(out_shape, false)}}})},
              {"parameters",
               {{"task", c.task},
                {"architecture", c.architecture},
                {"max_batch_size", c.batching.max_batch_size},
                {"state", engine::ModelStateName(m->state)}}}});
  }

  HttpResponse Ready(const HttpRequest& req) const {
    auto m = o_.engine->GetModel(req.Param("model"));
    if (!m.ok()) return StatusToResponse(m.status());
    bool ready = m->state == engine::ModelState::kReady ||
                 (m->state == engine::ModelState::kUnloaded && o_.engine->Ready());
    return HttpResponse::Json(ready ? 200 : 503, {{"name", m->config.name}, {"ready", ready}});
  }

  void Infer(HttpRequest&& req, Responder resp) const;

 private:
  Result<std::vector<engine::Tensor>> ParseInputs(const json& body, const engine::ModelConfig& c,
                                                  engine::Shape* batch_shape) const;
  KserveRoutesOptions o_;
};

Result<std::vector<engine::Tensor>> KserveApi::ParseInputs(const json& body,
                                                           const engine::ModelConfig& c,
                                                           engine::Shape* batch_shape) const {
  if (!body.is_object() || !body.contains("inputs") || !body["inputs"].is_array() ||
      body["inputs"].size() != 1) {
    return InvalidArgument("expected {\"inputs\": [one tensor]} in the request body");
  }
  const json& in = body["inputs"][0];
  if (!in.is_object() || !in.contains("shape") || !in["shape"].is_array() || !in.contains("data")) {
    return InvalidArgument("the input tensor needs 'shape', 'datatype' and 'data'");
  }
  std::string datatype = in.value("datatype", "FP32");
  if (!Numeric(datatype)) return InvalidArgument("unsupported datatype '" + datatype + "'");
  engine::Shape shape;
  for (const json& d : in["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() <= 0) {
      return InvalidArgument("tensor shape dimensions must be positive integers");
    }
    shape.push_back(d.get<int64_t>());
  }
  if (shape.size() != c.reference_shape.size() + 1) {
    return InvalidArgument("input shape " + engine::ShapeToString(shape) + " must be [batch] + " +
                           std::to_string(c.reference_shape.size()) + " sample dimensions");
  }
  if (shape[0] > o_.max_batch) {
    return InvalidArgument("at most " + std::to_string(o_.max_batch) + " samples per request");
  }
  std::vector<float> data;
  if (!Flatten(in["data"], &data)) return InvalidArgument("tensor data must be numbers");
  if (static_cast<int64_t>(data.size()) != engine::NumElements(shape)) {
    return InvalidArgument("tensor data has " + std::to_string(data.size()) + " values but shape " +
                           engine::ShapeToString(shape) + " needs " +
                           std::to_string(engine::NumElements(shape)));
  }
  *batch_shape = shape;
  engine::Shape sample(shape.begin() + 1, shape.end());
  const size_t per = static_cast<size_t>(engine::NumElements(sample));
  std::vector<engine::Tensor> samples;
  for (int64_t i = 0; i < shape[0]; ++i) {
    samples.emplace_back(sample,
                         std::vector<float>(data.begin() + i * per, data.begin() + (i + 1) * per));
  }
  return samples;
}

// Collects the per-sample results of one infer request; the last one answers.
struct InferState {
  std::mutex mu;
  std::vector<engine::Tensor> outputs;  // guarded by mu
  size_t remaining = 0;                 // guarded by mu
  bool failed = false;                  // guarded by mu
  json id;
  std::string model, version;
  Responder resp;
  explicit InferState(Responder r) : resp(std::move(r)) {}

  void Done(size_t i, Result<engine::InferResult> r) {
    std::lock_guard<std::mutex> lock(mu);
    if (failed) return;
    if (!r.ok()) {
      failed = true;
      return resp.SendStatus(r.status());
    }
    outputs[i] = std::move(r->output);
    if (--remaining == 0) Send();
  }

  void Send() {  // mu held
    engine::Shape shape = outputs[0].shape;
    shape.insert(shape.begin(), static_cast<int64_t>(outputs.size()));
    std::vector<float> data;
    data.reserve(static_cast<size_t>(engine::NumElements(shape)));
    for (const engine::Tensor& t : outputs) data.insert(data.end(), t.data.begin(), t.data.end());
    json body = {{"model_name", model},
                 {"model_version", version},
                 {"outputs", json::array({{{"name", "output"},
                                           {"datatype", "FP32"},
                                           {"shape", shape},
                                           {"data", std::move(data)}}})}};
    if (!id.is_null()) body["id"] = id;
    resp.Send(HttpResponse::Json(200, body));
  }
};

void KserveApi::Infer(HttpRequest&& req, Responder resp) const {
  auto m = o_.engine->GetModel(req.Param("model"));
  if (!m.ok()) return resp.SendStatus(m.status());
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return resp.SendStatus(InvalidArgument("body is not valid JSON"));
  engine::Shape shape;
  auto samples = ParseInputs(body, m->config, &shape);
  if (!samples.ok()) return resp.SendStatus(samples.status());
  auto state = std::make_shared<InferState>(resp);
  state->id = body.value("id", json(nullptr));
  state->model = m->config.name;
  state->version = m->config.version;
  state->outputs.resize(samples->size());
  state->remaining = samples->size();
  const auto deadline = std::chrono::steady_clock::now() + o_.request_timeout;
  for (size_t i = 0; i < samples->size(); ++i) {
    engine::InferRequest r;
    r.model = m->config.name;
    r.client_id = ClientId(req);
    r.input = std::move((*samples)[i]);
    r.deadline = deadline;
    Status s = o_.engine->Submit(std::move(r), [state, i](Result<engine::InferResult> res) {
      state->Done(i, std::move(res));
    });
    if (!s.ok()) return state->Done(i, s);
  }
}

}  // namespace

Status RegisterKserveRoutes(Router* router, KserveRoutesOptions options) {
  if (!options.engine) return InvalidArgument("kserve routes need an engine");
  auto api = std::make_shared<KserveApi>(std::move(options));
  SEGHUB_RETURN_IF_ERROR(
      router->AddSync("GET", "/v2", [api](const HttpRequest&) { return api->Server(); }));
  for (std::string base : {"/v2/models/{model}", "/v2/models/{model}/versions/{version}"}) {
    SEGHUB_RETURN_IF_ERROR(
        router->AddSync("GET", base, [api](const HttpRequest& r) { return api->Metadata(r); }));
    SEGHUB_RETURN_IF_ERROR(router->AddSync("GET", base + "/ready",
                                           [api](const HttpRequest& r) { return api->Ready(r); }));
    SEGHUB_RETURN_IF_ERROR(router->Add(
        "POST", base + "/infer",
        [api](HttpRequest&& r, Responder resp) { api->Infer(std::move(r), std::move(resp)); }));
  }
  return Status::Ok();
}

}  // namespace seghub::api
