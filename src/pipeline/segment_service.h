// SegmentService: microscopy image bytes in, polygons with holes and shape metrics out.
//
//   Segment() (any thread, e.g. an HTTP io thread) validates the request and queues it on the
//   service's TaskPool; a pool thread decodes (with byte and pixel limits), plans the model
//   inputs (resize or tiles, see input_plan.h) and submits them to the engine, at most
//   `max_inflight_inputs` per image at a time, so tiles of many images share the engine's
//   batches while a huge image never floods the queue. Each engine result is handed back to the
//   pool (engine instance threads never post-process); the last one triggers post-processing:
//   probability map -> (instances: watershed, or seeded by the model's cores) -> polygons ->
//   per-object metrics -> `done`.
//
// Guarantees: `done` is called exactly once per accepted request (never when Segment returns an
// error), from a pool thread. After Shutdown() no new work is accepted.
// Ownership: the caller owns the service and the engine; the engine must outlive the service.
#ifndef SEGHUB_PIPELINE_SEGMENT_SERVICE_H_
#define SEGHUB_PIPELINE_SEGMENT_SERVICE_H_

#include <functional>
#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "engine/engine.h"
#include "imaging/decode.h"
#include "imaging/polygons.h"
#include "imaging/shape_metrics.h"
#include "metrics/metrics.h"

namespace seghub::pipeline {

// The largest resize factor a request may ask for (SegmentRequest::scale).
inline constexpr double kMaxScale = 16;

// OK when `scale` lies in (0, kMaxScale]; else InvalidArgument naming `what` (the field as the
// caller's users know it). Pure; any thread.
Status CheckScale(double scale, const std::string& what);

struct SegmentRequest {
  std::string model;               // empty: the service's default model
  std::optional<float> threshold;  // empty: the model's recommended_threshold
  bool detect_holes = true;
  std::optional<double> min_area;          // px²; empty: the model's postprocess.min_area
  double simplify_epsilon = 0.0;           // Douglas–Peucker epsilon, px (0 = off)
  std::optional<bool> separate_instances;  // empty: the model's postprocess.instances
  double um_per_px = 0.0;                  // > 0: metrics in µm / µm²
  bool compute_metrics = true;
  bool keep_image = false;  // return the decoded pixels and probabilities (overlays, labels)
  int page = 0;             // multi-page TIFF page
  // Resize the image by this factor before the model sees it (objects come out nearer the size
  // the model was trained on); polygons stay in the image's own pixels. Empty: the model's
  // input.object_diameter estimates it per image (object_scale.h), or 1.
  std::optional<double> scale;
  std::string client_id = "anonymous";
  int priority = 0;
  std::optional<SteadyTime> deadline;
  std::shared_ptr<engine::CancelToken> cancel;
};

struct SegmentTiming {
  double queue_s = 0;           // waiting for a pool thread
  double preprocessing_s = 0;   // decode + input preparation
  double decode_s = 0;          // the decode part of preprocessing_s
  double inference_s = 0;       // first submit to last engine result
  double postprocessing_s = 0;  // blending, contours, metrics
  double total_s = 0;
};

struct SegmentResult {
  std::string model;
  float threshold = 0.5f;
  int width = 0;
  int height = 0;
  std::vector<imaging::Polygon> polygons;
  std::map<int, imaging::ShapeMetrics> metrics;  // external polygon id -> its metrics
  SegmentTiming timing;
  int batch_size_used = 0;  // largest engine batch any of its inputs ran in
  int model_inputs = 0;     // 1, or the number of tiles (of both passes when rescaled)
  double scale = 1;         // the factor the image was resized by (SegmentRequest::scale)
  std::string device;
  double um_per_px = 0.0;
  cv::Mat image;          // with keep_image: decoded pixels (RGB/grey, source depth)
  cv::Mat probabilities;  // with keep_image: CV_32FC1
};

using SegmentCallback = std::function<void(Result<SegmentResult>)>;

struct SegmentServiceOptions {
  imaging::DecodeLimits limits;
  int threads = 0;       // pool threads; 0 = hardware concurrency
  int max_queue = 1024;  // queued images before kResourceExhausted
  int max_inflight_inputs = 16;
  std::string default_model = "hrnet";
  const Clock* clock = nullptr;           // default SystemClock
  metrics::Registry* registry = nullptr;  // optional; must outlive the service
};

class SegmentService {
 public:
  SegmentService(engine::Engine* engine, SegmentServiceOptions options);
  ~SegmentService();  // Shutdown()

  // Takes ownership of `bytes`. Errors (done not called): kNotFound (model), kInvalidArgument
  // (model is not a segmentation model, bad options), kResourceExhausted (queue full).
  Status Segment(std::string bytes, SegmentRequest request, SegmentCallback done);
  // Segment and wait (CLI, tests). Any thread except a pool thread.
  Result<SegmentResult> SegmentSync(std::string bytes, SegmentRequest request);
  // Resolves the model name (default when empty) and checks that it is a segmentation model.
  Result<engine::ModelStatus> ResolveModel(const std::string& name) const;
  const std::string& default_model() const { return options_.default_model; }
  int pending() const;  // images queued or in progress
  void Shutdown();

  class Job;

 private:
  void Prepare(std::shared_ptr<Job> job);
  void SubmitMore(const std::shared_ptr<Job>& job);
  void OnOutput(const std::shared_ptr<Job>& job, size_t index, Result<engine::InferResult> r);
  void Finish(const std::shared_ptr<Job>& job);
  // Plans and resets the job for a pass over `pixels` resized by `scale`. Pool thread; no input
  // of an earlier pass may be in flight.
  Status StartPass(const std::shared_ptr<Job>& job, const cv::Mat& pixels, double scale);
  // After a first pass with job->source kept: estimates the object size from `labels` (and
  // drops the source) and, when the model asks for a different scale, starts the second pass
  // and returns true (the job then finishes later).
  bool MaybeRescale(const std::shared_ptr<Job>& job, const cv::Mat& labels, double min_area,
                    SteadyTime start);
  void Complete(const std::shared_ptr<Job>& job, Result<SegmentResult> result);

  engine::Engine* engine_;
  SegmentServiceOptions options_;
  const Clock* clock_;
  struct Metrics;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<class TaskPool> pool_;
  std::atomic<int> pending_{0};
};

// The Hub's /api/v1/segment body: {model_used, threshold_used, image_size, polygons,
// processing_time, inference_time, preprocessing_time, device, gpu_enabled, batch_size_used,
// success}, plus seghub's extras (postprocessing_time, tiles, scale, per-polygon "metrics" and
// "unit" when metrics were computed).
nlohmann::json SegmentResultToHubJson(const SegmentResult& result);

}  // namespace seghub::pipeline

#endif  // SEGHUB_PIPELINE_SEGMENT_SERVICE_H_
