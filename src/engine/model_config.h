// ModelConfig: the parsed form of a model repository entry's model.json.
//
// A model folder holds model.json and its weights:
//   models/<name>/model.json
//   models/<name>/<weights file>          (safetensors, TorchScript .pt, or a Hub .pth checkpoint)
//   models/<name>/tuning.json             (optional; written by `seghub tune`, per device)
// The schema is documented in docs/model-repository.md.
#ifndef SEGHUB_ENGINE_MODEL_CONFIG_H_
#define SEGHUB_ENGINE_MODEL_CONFIG_H_

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/tensor.h"

namespace seghub::engine {

struct InputSpec {
  int channels = 3;
  std::string layout = "NCHW";
  // Fixed spatial size [H, W] the model is fed (e.g. the Hub's 1024x1024), or empty for any size.
  std::vector<int64_t> size;
  int64_t tile = 0;             // > 0: large inputs are tiled to tile x tile
  int64_t tile_overlap = 0;     // pixels of overlap between tiles
  std::string resize = "none";  // "none", "stretch" (the Hub squashes), "tile"
  std::vector<float> mean;      // per-channel normalisation; empty = none
  std::vector<float> std;
  // Intensities to [0,1] before mean/std ("tile" and "none" only): "auto" (8-bit v/255, deeper
  // data by percentiles) or "percentile" (1st..99.8th percentile of the whole image, any depth:
  // fluorescence exposures vary a lot). invert "auto" flips bright-background images (bright
  // field, H&E) so objects are bright; "none" keeps them as they are.
  std::string normalize = "auto";
  std::string invert = "none";
  // Test-time augmentation ("tile" only): every tile also runs mirrored and the outputs are
  // averaged after mirroring them back. 1 = off, 2 = plus the 180-degree rotation (both axes),
  // 4 = plus each axis alone, 8 = plus the transposes of those four (the 90-degree rotations and
  // diagonal mirrors). Costs that many times the compute.
  int flips = 1;
  // Object-size rescaling ("tile" with postprocess.instances): a net segments best at the object
  // sizes it was trained on. With object_diameter > 0 a first pass measures the area-weighted
  // median equivalent diameter d of the objects it finds (pipeline/object_scale.h); when s =
  // object_diameter / d, clamped to [min_scale, max_scale], is at least 1.25 (or at most 0.8) the
  // image is resized by s and segmented again, and the instances are mapped back to the image's own
  // size. 0 = off.
  double object_diameter = 0;  // px
  double min_scale = 1.0;
  double max_scale = 4.0;
};

struct OutputSpec {
  int channels = 1;
  // Applied by the pipeline, not the network: "sigmoid", "none" (already probabilities) or
  // "auto" (the Hub's rule: sigmoid only when some value lies outside [0,1]).
  std::string activation = "sigmoid";
  // Signal models whose answer does not depend on polarity (PD pulses come in either sign): the
  // pipeline also runs every window negated and averages the two probabilities (twice the
  // compute; the result is exactly sign-invariant). Rejected for other tasks.
  bool average_negated = false;
};

// How a segmentation pipeline turns the probability map into objects (see src/pipeline).
struct PostprocessSpec {
  // "none" (connected regions), "watershed" (split touching objects at distance-transform
  // peaks) or "cores" (output channel 1 is each object's core, learnt: the watershed's seeds;
  // needs output.channels 2).
  std::string instances = "none";
  // cores: the share of an object's inscribed radius its core covers in the training target
  // (`seghub train` reads it; serving does not need it).
  double core_fraction = 0.5;
  // cores: a core is core probability > core_threshold; smaller than min_core_area px, noise.
  double core_threshold = 0.5;
  int min_core_area = 4;
  // watershed/cores: regions above low_threshold that never reach the threshold are objects too
  // (imaging::InstanceOptions::low_threshold; 0 = off; ignored when a request's threshold is
  // not above it).
  double low_threshold = 0.0;
  double min_area = 50.0;  // px²; smaller objects are dropped
  std::string class_name = "spheroid";
  int min_distance = 5;  // watershed: peaks closer than this (px) do not split an object
  // watershed: basins joined by a saddle >= this x the smaller peak distance merge (0 = off).
  double saddle_ratio = 0.0;
  // Signal models (PD regions), in samples: runs of probability above the threshold separated
  // by at most merge_gap samples join; regions shorter than min_length are dropped. A request
  // may override both.
  int merge_gap = 0;
  int min_length = 1;
};

struct BatchingConfig {
  int max_batch_size = 8;
  std::vector<int> preferred_batch_sizes;  // ascending; empty = any size
  int64_t max_queue_delay_us = 2000;
  int max_queue_size = 4096;  // pending requests per model before 429
};

struct ModelConfig {
  std::string name;
  std::string version = "1";
  std::string task = "segmentation";  // "segmentation", "signal-segmentation", ...
  std::string description;
  std::string backend = "torch";  // "torch", "test"
  std::string format = "seghub";  // "seghub" (C++-defined net), "torchscript"
  std::string architecture;       // e.g. "unet", "cbam_resunet", "hrnet" (format=seghub)
  nlohmann::json arch_params = nlohmann::json::object();  // widths etc., per architecture
  std::string weights;  // file name inside the folder; empty = untrained
  InputSpec input;
  OutputSpec output;
  PostprocessSpec postprocess;
  std::string precision = "fp32";  // "fp32", "fp16", "bf16"
  BatchingConfig batching;
  int instance_count = 1;
  int threads_per_instance = 0;  // 0 = cores / instance_count
  // Activation memory for one sample at reference_shape (bytes); 0 = measure at load.
  int64_t per_sample_bytes = 0;
  Shape reference_shape;  // sample shape [C, H, W] used for warm-up and measurement
  float recommended_threshold = 0.5f;
  std::filesystem::path dir;  // folder the config was read from

  bool has_weights() const { return !weights.empty(); }
  std::filesystem::path weights_path() const { return dir / weights; }
};

// Parses and validates. `dir` is recorded so weights resolve relative to it.
Result<ModelConfig> ParseModelConfig(const nlohmann::json& j, const std::filesystem::path& dir);
Result<ModelConfig> LoadModelConfig(const std::filesystem::path& model_json);

// Every <root>/<name>/model.json, sorted by name. Folders whose model.json fails to parse are
// reported in `errors` (one line each) and skipped.
std::vector<ModelConfig> ScanModelRepository(const std::filesystem::path& root,
                                             std::vector<std::string>* errors);

nlohmann::json ModelConfigToJson(const ModelConfig& c);

}  // namespace seghub::engine

#endif  // SEGHUB_ENGINE_MODEL_CONFIG_H_
