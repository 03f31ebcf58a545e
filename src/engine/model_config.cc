#include "engine/model_config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace seghub::engine {
namespace {

using nlohmann::json;

// Reads j[key] into *out when present; a wrong type becomes a Status naming the field.
template <typename T>
Status Get(const json& j, const char* key, T* out, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  try {
    *out = it->get<T>();
  } catch (const json::exception& e) {
    return InvalidArgument(where + ": field '" + key + "' has the wrong type (" + e.what() + ")");
  }
  return Status::Ok();
}

Status ParseRescale(const json& j, InputSpec* in, const std::string& where) {
  SEGHUB_RETURN_IF_ERROR(Get(j, "object_diameter", &in->object_diameter, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "min_scale", &in->min_scale, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "max_scale", &in->max_scale, where));
  if (!(in->object_diameter >= 0)) {
    return InvalidArgument(where + ": input.object_diameter must be >= 0 (0 = off)");
  }
  if (!(in->min_scale > 0 && in->min_scale <= 1 && in->max_scale >= 1 && in->max_scale <= 16)) {
    return InvalidArgument(where + ": input.min_scale must lie in (0, 1] and max_scale in [1, 16]");
  }
  if (in->object_diameter > 0 && in->resize != "tile") {
    return InvalidArgument(where + ": input.object_diameter needs input.resize 'tile'");
  }
  return Status::Ok();
}

Status ParseInput(const json& j, InputSpec* in, const std::string& where) {
  if (!j.is_object()) return InvalidArgument(where + ": 'input' must be an object");
  SEGHUB_RETURN_IF_ERROR(Get(j, "channels", &in->channels, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "layout", &in->layout, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "size", &in->size, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "tile", &in->tile, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "tile_overlap", &in->tile_overlap, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "resize", &in->resize, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "mean", &in->mean, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "std", &in->std, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "normalize", &in->normalize, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "invert", &in->invert, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "flips", &in->flips, where));
  SEGHUB_RETURN_IF_ERROR(ParseRescale(j, in, where));
  if (in->flips != 1 && in->flips != 2 && in->flips != 4 && in->flips != 8) {
    return InvalidArgument(where + ": input.flips must be 1, 2, 4 or 8");
  }
  if (in->flips != 1 && in->resize != "tile") {
    return InvalidArgument(where + ": input.flips needs input.resize 'tile'");
  }
  if (in->normalize != "auto" && in->normalize != "percentile") {
    return InvalidArgument(where + ": input.normalize must be auto or percentile");
  }
  if (in->invert != "none" && in->invert != "auto") {
    return InvalidArgument(where + ": input.invert must be none or auto");
  }
  if (in->resize == "stretch" && (in->normalize != "auto" || in->invert != "none")) {
    return InvalidArgument(where + ": input.resize 'stretch' is the Hub's preprocessing; " +
                           "input.normalize and input.invert need 'tile' or 'none'");
  }
  if (in->channels <= 0) return InvalidArgument(where + ": input.channels must be > 0");
  if (!in->size.empty() && in->size.size() != 2) {
    return InvalidArgument(where + ": input.size must be [H, W]");
  }
  if (in->mean.size() != in->std.size()) {
    return InvalidArgument(where + ": input.mean and input.std must have the same length");
  }
  for (float s : in->std) {
    if (s <= 0) return InvalidArgument(where + ": input.std values must be > 0");
  }
  if (in->resize != "none" && in->resize != "stretch" && in->resize != "tile") {
    return InvalidArgument(where + ": input.resize must be none, stretch or tile");
  }
  if (in->resize == "stretch" && in->size.empty()) {
    return InvalidArgument(where + ": input.resize 'stretch' needs input.size");
  }
  if (in->resize == "tile" &&
      (in->tile <= 0 || in->tile_overlap < 0 || in->tile_overlap >= in->tile)) {
    return InvalidArgument(where + ": input.resize 'tile' needs tile > 0 and 0 <= overlap < tile");
  }
  return Status::Ok();
}

Status ParseBatching(const json& j, BatchingConfig* b, const std::string& where) {
  SEGHUB_RETURN_IF_ERROR(Get(j, "max_batch_size", &b->max_batch_size, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "preferred_batch_sizes", &b->preferred_batch_sizes, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "max_queue_delay_us", &b->max_queue_delay_us, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "max_queue_size", &b->max_queue_size, where));
  if (b->max_batch_size < 1) return InvalidArgument(where + ": max_batch_size must be >= 1");
  if (b->max_queue_delay_us < 0) return InvalidArgument(where + ": max_queue_delay_us < 0");
  if (b->max_queue_size < 1) return InvalidArgument(where + ": max_queue_size must be >= 1");
  std::sort(b->preferred_batch_sizes.begin(), b->preferred_batch_sizes.end());
  for (int p : b->preferred_batch_sizes) {
    if (p < 1 || p > b->max_batch_size) {
      return InvalidArgument(where + ": preferred_batch_sizes must lie in [1, max_batch_size]");
    }
  }
  return Status::Ok();
}

Status ParsePostprocess(const json& j, PostprocessSpec* p, const std::string& where) {
  if (!j.is_object()) return InvalidArgument(where + ": 'postprocess' must be an object");
  SEGHUB_RETURN_IF_ERROR(Get(j, "instances", &p->instances, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "min_area", &p->min_area, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "class_name", &p->class_name, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "min_distance", &p->min_distance, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "saddle_ratio", &p->saddle_ratio, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "merge_gap", &p->merge_gap, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "min_length", &p->min_length, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "core_fraction", &p->core_fraction, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "core_threshold", &p->core_threshold, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "min_core_area", &p->min_core_area, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "low_threshold", &p->low_threshold, where));
  if (p->instances != "none" && p->instances != "watershed" && p->instances != "cores") {
    return InvalidArgument(where + ": postprocess.instances must be none, watershed or cores");
  }
  if (!(p->core_fraction > 0.0 && p->core_fraction < 1.0)) {
    return InvalidArgument(where + ": postprocess.core_fraction must lie in (0, 1)");
  }
  if (!(p->core_threshold > 0.0 && p->core_threshold < 1.0)) {
    return InvalidArgument(where + ": postprocess.core_threshold must lie in (0, 1)");
  }
  if (p->min_core_area < 1) return InvalidArgument(where + ": postprocess.min_core_area >= 1");
  if (!(p->low_threshold >= 0.0 && p->low_threshold < 1.0)) {
    return InvalidArgument(where + ": postprocess.low_threshold must lie in [0, 1)");
  }
  if (p->min_area < 0) return InvalidArgument(where + ": postprocess.min_area must be >= 0");
  if (p->min_distance < 1) return InvalidArgument(where + ": postprocess.min_distance >= 1");
  if (!(p->saddle_ratio >= 0.0 && p->saddle_ratio <= 1.0)) {
    return InvalidArgument(where + ": postprocess.saddle_ratio must lie in [0, 1]");
  }
  if (p->merge_gap < 0) return InvalidArgument(where + ": postprocess.merge_gap must be >= 0");
  if (p->min_length < 1) return InvalidArgument(where + ": postprocess.min_length must be >= 1");
  return Status::Ok();
}

}  // namespace

Result<ModelConfig> ParseModelConfig(const json& j, const std::filesystem::path& dir) {
  ModelConfig c;
  c.dir = dir;
  const std::string where = (dir / "model.json").string();
  if (!j.is_object()) return InvalidArgument(where + ": must be a JSON object");
  SEGHUB_RETURN_IF_ERROR(Get(j, "name", &c.name, where));
  if (c.name.empty()) c.name = dir.filename().string();
  SEGHUB_RETURN_IF_ERROR(Get(j, "version", &c.version, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "task", &c.task, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "description", &c.description, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "backend", &c.backend, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "format", &c.format, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "architecture", &c.architecture, where));
  if (j.contains("arch_params")) c.arch_params = j["arch_params"];
  SEGHUB_RETURN_IF_ERROR(Get(j, "weights", &c.weights, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "precision", &c.precision, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "instance_count", &c.instance_count, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "threads_per_instance", &c.threads_per_instance, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "per_sample_bytes", &c.per_sample_bytes, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "reference_shape", &c.reference_shape, where));
  SEGHUB_RETURN_IF_ERROR(Get(j, "recommended_threshold", &c.recommended_threshold, where));
  if (j.contains("input")) SEGHUB_RETURN_IF_ERROR(ParseInput(j["input"], &c.input, where));
  if (j.contains("output")) {
    SEGHUB_RETURN_IF_ERROR(Get(j["output"], "channels", &c.output.channels, where));
    SEGHUB_RETURN_IF_ERROR(Get(j["output"], "activation", &c.output.activation, where));
    SEGHUB_RETURN_IF_ERROR(Get(j["output"], "average_negated", &c.output.average_negated, where));
  }
  if (j.contains("batching")) {
    SEGHUB_RETURN_IF_ERROR(ParseBatching(j["batching"], &c.batching, where));
  }
  if (j.contains("postprocess")) {
    SEGHUB_RETURN_IF_ERROR(ParsePostprocess(j["postprocess"], &c.postprocess, where));
  }
  const std::string& act = c.output.activation;
  if (act != "sigmoid" && act != "none" && act != "auto") {
    return InvalidArgument(where + ": output.activation must be sigmoid, none or auto");
  }
  if (c.postprocess.instances == "cores" && c.output.channels != 2) {
    return InvalidArgument(where +
                           ": postprocess.instances 'cores' needs output.channels 2 (channel 1 "
                           "holds the cores)");
  }
  if (c.output.average_negated && c.task != "signal-segmentation") {
    return InvalidArgument(where + ": output.average_negated is for signal-segmentation models");
  }
  if (c.instance_count < 1) return InvalidArgument(where + ": instance_count must be >= 1");
  if (c.threads_per_instance < 0) return InvalidArgument(where + ": threads_per_instance < 0");
  if (c.precision != "fp32" && c.precision != "fp16" && c.precision != "bf16") {
    return InvalidArgument(where + ": precision must be fp32, fp16 or bf16");
  }
  if (c.reference_shape.empty()) {
    int64_t h = c.input.size.empty() ? 256 : c.input.size[0];
    int64_t w = c.input.size.empty() ? 256 : c.input.size[1];
    c.reference_shape = {c.input.channels, h, w};
  }
  for (int64_t d : c.reference_shape) {
    if (d <= 0) return InvalidArgument(where + ": reference_shape dimensions must be > 0");
  }
  return c;
}

Result<ModelConfig> LoadModelConfig(const std::filesystem::path& model_json) {
  std::ifstream in(model_json);
  if (!in) return NotFound("cannot open " + model_json.string());
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    return InvalidArgument(model_json.string() + ": invalid JSON: " + e.what());
  }
  return ParseModelConfig(j, model_json.parent_path());
}

std::vector<ModelConfig> ScanModelRepository(const std::filesystem::path& root,
                                             std::vector<std::string>* errors) {
  std::vector<ModelConfig> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) {
    if (errors) errors->push_back("model repository " + root.string() + " is not a directory");
    return out;
  }
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    auto cfg_path = entry.path() / "model.json";
    if (!entry.is_directory() || !std::filesystem::exists(cfg_path)) continue;
    auto cfg = LoadModelConfig(cfg_path);
    if (cfg.ok()) {
      out.push_back(std::move(cfg).value());
    } else if (errors) {
      errors->push_back(cfg.status().message());
    }
  }
  std::sort(out.begin(), out.end(),
            [](const ModelConfig& a, const ModelConfig& b) { return a.name < b.name; });
  return out;
}

nlohmann::json ModelConfigToJson(const ModelConfig& c) {
  json j;
  j["name"] = c.name;
  j["version"] = c.version;
  j["task"] = c.task;
  j["description"] = c.description;
  j["backend"] = c.backend;
  j["format"] = c.format;
  j["architecture"] = c.architecture;
  j["arch_params"] = c.arch_params;
  j["weights"] = c.weights;
  j["input"] = {{"channels", c.input.channels},
                {"layout", c.input.layout},
                {"size", c.input.size},
                {"tile", c.input.tile},
                {"tile_overlap", c.input.tile_overlap},
                {"resize", c.input.resize},
                {"mean", c.input.mean},
                {"std", c.input.std},
                {"normalize", c.input.normalize},
                {"invert", c.input.invert},
                {"flips", c.input.flips},
                {"object_diameter", c.input.object_diameter},
                {"min_scale", c.input.min_scale},
                {"max_scale", c.input.max_scale}};
  j["output"] = {{"channels", c.output.channels},
                 {"activation", c.output.activation},
                 {"average_negated", c.output.average_negated}};
  j["postprocess"] = {{"instances", c.postprocess.instances},
                      {"min_area", c.postprocess.min_area},
                      {"class_name", c.postprocess.class_name},
                      {"min_distance", c.postprocess.min_distance},
                      {"saddle_ratio", c.postprocess.saddle_ratio},
                      {"merge_gap", c.postprocess.merge_gap},
                      {"min_length", c.postprocess.min_length},
                      {"core_fraction", c.postprocess.core_fraction},
                      {"core_threshold", c.postprocess.core_threshold},
                      {"min_core_area", c.postprocess.min_core_area},
                      {"low_threshold", c.postprocess.low_threshold}};
  j["precision"] = c.precision;
  j["batching"] = {{"max_batch_size", c.batching.max_batch_size},
                   {"preferred_batch_sizes", c.batching.preferred_batch_sizes},
                   {"max_queue_delay_us", c.batching.max_queue_delay_us},
                   {"max_queue_size", c.batching.max_queue_size}};
  j["instance_count"] = c.instance_count;
  j["threads_per_instance"] = c.threads_per_instance;
  j["per_sample_bytes"] = c.per_sample_bytes;
  j["reference_shape"] = c.reference_shape;
  j["recommended_threshold"] = c.recommended_threshold;
  return j;
}

}  // namespace seghub::engine
