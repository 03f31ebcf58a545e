#include "pipeline/segment_service.h"

#include <algorithm>
#include <future>
#include <mutex>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "common/logging.h"
#include "imaging/exports.h"
#include "imaging/instances.h"
#include "pipeline/input_plan.h"
#include "pipeline/object_scale.h"
#include "pipeline/task_pool.h"

namespace seghub::pipeline {

using engine::InferResult;

struct SegmentService::Metrics {
  metrics::Family<metrics::Counter>* images = nullptr;
  metrics::Family<metrics::Histogram>* stage = nullptr;
};

class SegmentService::Job {
 public:
  std::string bytes;
  SegmentRequest request;
  SegmentCallback done;
  engine::ModelConfig config;
  std::string device;
  SteadyTime accepted;
  SteadyTime first_submit;
  std::atomic<bool> finished{false};
  std::atomic<size_t> inputs_made{0};
  // Written by Prepare (and by MaybeRescale once every input of the first pass is back) before
  // any input of the pass is submitted; read by the pass's submit and output tasks.
  std::optional<InputPlan> plan;
  cv::Mat image;  // keep_image only
  // Decoded pixels, kept only while the first pass may still lead to a rescaled one (the object
  // size is measured once, when that pass finishes). Pool thread, one task at a time.
  cv::Mat source;
  cv::Size image_size;      // the decoded image's own size
  double scale = 1;         // the current pass's resize factor
  int model_inputs = 0;     // inputs of earlier passes
  double first_pass_s = 0;  // post-processing of a first pass that led to a rescaled one

  std::mutex mu;
  std::optional<OutputAssembler> assembler;  // guarded by mu
  size_t next = 0;                           // guarded by mu: next input to submit
  size_t received = 0;                       // guarded by mu
  int inflight = 0;                          // guarded by mu
  int batch_max = 0;                         // guarded by mu
  double preprocessing_s = 0;                // guarded by mu
  double decode_s = 0;                       // written once by Prepare, before any submit
  SteadyTime last_output;                    // guarded by mu
  double queue_s = 0;
};

namespace {

double Seconds(SteadyTime a, SteadyTime b) { return std::chrono::duration<double>(b - a).count(); }

imaging::PolygonOptions PolygonOptionsFor(const SegmentRequest& req,
                                          const engine::ModelConfig& cfg) {
  imaging::PolygonOptions popt;
  popt.threshold = req.threshold.value_or(cfg.recommended_threshold);
  popt.min_area = req.min_area.value_or(cfg.postprocess.min_area);
  popt.detect_holes = req.detect_holes;
  popt.simplify_epsilon = req.simplify_epsilon;
  popt.class_name = cfg.postprocess.class_name;
  return popt;
}

// Instance labels from the probability plane (and the cores plane, when the model has one).
Result<cv::Mat> InstanceLabels(const std::vector<cv::Mat>& planes, const engine::ModelConfig& cfg,
                               float threshold) {
  imaging::InstanceOptions iopt;
  iopt.threshold = threshold;
  iopt.min_distance = cfg.postprocess.min_distance;
  iopt.saddle_ratio = cfg.postprocess.saddle_ratio;
  iopt.core_threshold = static_cast<float>(cfg.postprocess.core_threshold);
  iopt.min_core_area = cfg.postprocess.min_core_area;
  const float low = static_cast<float>(cfg.postprocess.low_threshold);
  iopt.low_threshold = low < iopt.threshold ? low : 0.0f;
  return planes.size() > 1 ? imaging::SeparateInstancesFromCores(planes[0], planes[1], iopt)
                           : imaging::SeparateInstancesFromProbabilities(planes[0], iopt);
}

std::map<int, imaging::ShapeMetrics> MetricsOf(const std::vector<imaging::Polygon>& polygons,
                                               double um_per_px) {
  std::map<int, imaging::ShapeMetrics> metrics;
  for (const imaging::PolygonGroup& g : imaging::GroupHoles(polygons)) {
    auto m = imaging::ComputeShapeMetrics(polygons, g, um_per_px > 0 ? um_per_px : 1.0);
    // Degenerate shapes (e.g. under 3 distinct points) have no metrics; they are kept.
    if (m.ok()) metrics[polygons[g.external].id] = *m;
  }
  return metrics;
}

// A probability plane of a rescaled pass back at the image's own size (area averaging when
// shrinking, bilinear when growing).
cv::Mat ToImageSize(const cv::Mat& plane, cv::Size size) {
  if (plane.size() == size) return plane;
  cv::Mat out;
  const bool shrink = plane.cols > size.width;
  cv::resize(plane, out, size, 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

}  // namespace

SegmentService::SegmentService(engine::Engine* engine, SegmentServiceOptions options)
    : engine_(engine),
      options_(std::move(options)),
      clock_(options_.clock ? options_.clock : SystemClock::Get()),
      metrics_(std::make_unique<Metrics>()) {
  int threads =
      options_.threads > 0 ? options_.threads : std::max(1u, std::thread::hardware_concurrency());
  pool_ = std::make_unique<TaskPool>(threads, options_.max_queue);
  if (options_.registry) {
    metrics_->images = &options_.registry->AddCounter("seghub_segment_images_total",
                                                      "Images segmented, by model and outcome",
                                                      {"model", "outcome"});
    metrics_->stage = &options_.registry->AddHistogram(
        "seghub_segment_stage_seconds", "Time per image in each pipeline stage", {"stage"},
        {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
  }
}

SegmentService::~SegmentService() { Shutdown(); }

void SegmentService::Shutdown() { pool_->Stop(); }

int SegmentService::pending() const { return pending_.load(); }

Result<engine::ModelStatus> SegmentService::ResolveModel(const std::string& name) const {
  const std::string& model = name.empty() ? options_.default_model : name;
  SEGHUB_ASSIGN_OR_RETURN(engine::ModelStatus status, engine_->GetModel(model));
  if (status.config.task != "segmentation") {
    return InvalidArgument("model '" + model + "' is a " + status.config.task +
                           " model, not an image segmentation model");
  }
  return status;
}

Status CheckScale(double scale, const std::string& what) {
  if (scale > 0 && scale <= kMaxScale) return Status::Ok();
  return InvalidArgument(what + " must lie in (0, " + std::to_string(static_cast<int>(kMaxScale)) +
                         "]");
}

Status SegmentService::Segment(std::string bytes, SegmentRequest request, SegmentCallback done) {
  SEGHUB_ASSIGN_OR_RETURN(engine::ModelStatus model, ResolveModel(request.model));
  if (request.threshold && !(*request.threshold > 0.0f && *request.threshold < 1.0f)) {
    return InvalidArgument("threshold must lie strictly between 0 and 1");
  }
  if (request.min_area && *request.min_area < 0) return InvalidArgument("min_area must be >= 0");
  if (request.um_per_px < 0) return InvalidArgument("pixel size must be >= 0");
  if (request.simplify_epsilon < 0) return InvalidArgument("simplify epsilon must be >= 0");
  if (request.scale) SEGHUB_RETURN_IF_ERROR(CheckScale(*request.scale, "scale"));
  auto job = std::make_shared<Job>();
  job->bytes = std::move(bytes);
  job->request = std::move(request);
  job->request.model = model.config.name;
  job->config = model.config;
  job->device = model.device;
  job->done = std::move(done);
  job->accepted = clock_->Now();
  SEGHUB_RETURN_IF_ERROR(pool_->Post([this, job] { Prepare(job); }));
  pending_.fetch_add(1);
  return Status::Ok();
}

Result<SegmentResult> SegmentService::SegmentSync(std::string bytes, SegmentRequest request) {
  auto promise = std::make_shared<std::promise<Result<SegmentResult>>>();
  auto future = promise->get_future();
  SEGHUB_RETURN_IF_ERROR(
      Segment(std::move(bytes), std::move(request),
              [promise](Result<SegmentResult> r) { promise->set_value(std::move(r)); }));
  return future.get();
}

void SegmentService::Prepare(std::shared_ptr<Job> job) {
  const SteadyTime start = clock_->Now();
  job->queue_s = Seconds(job->accepted, start);
  if (job->request.cancel && job->request.cancel->cancelled()) {
    return Complete(job, Cancelled("the request was cancelled"));
  }
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(job->bytes.data()),
                                 job->bytes.size());
  auto decoded = imaging::DecodeImage(bytes, options_.limits, job->request.page);
  job->decode_s = Seconds(start, clock_->Now());
  std::string().swap(job->bytes);  // the encoded bytes are not needed any more
  if (!decoded.ok()) return Complete(job, decoded.status());
  if (job->request.keep_image) job->image = decoded->pixels;
  job->image_size = decoded->pixels.size();
  const SegmentRequest& req = job->request;
  const bool instances =
      req.separate_instances.value_or(job->config.postprocess.instances != "none");
  if (!req.scale && instances && job->config.input.object_diameter > 0) {
    job->source = decoded->pixels;  // the first pass decides whether a rescaled one follows
  }
  Status planned = StartPass(job, decoded->pixels, req.scale.value_or(1.0));
  {
    std::lock_guard<std::mutex> lock(job->mu);
    job->preprocessing_s += Seconds(start, clock_->Now());
  }
  if (!planned.ok()) return Complete(job, planned);
  job->first_submit = clock_->Now();
  SubmitMore(job);
}

Status SegmentService::StartPass(const std::shared_ptr<Job>& job, const cv::Mat& pixels,
                                 double scale) {
  cv::Mat scaled = pixels;
  if (scale != 1) {
    const double pixels_after = scale * scale * static_cast<double>(pixels.total());
    if (pixels_after > static_cast<double>(options_.limits.max_pixels)) {
      return InvalidArgument("scale " + std::to_string(scale) + " makes the image larger than " +
                             std::to_string(options_.limits.max_pixels) + " pixels");
    }
    cv::resize(pixels, scaled, cv::Size(), scale, scale,
               scale > 1 ? cv::INTER_LINEAR : cv::INTER_AREA);
  }
  SEGHUB_ASSIGN_OR_RETURN(InputPlan plan, InputPlan::Create(scaled, job->config));
  SEGHUB_ASSIGN_OR_RETURN(OutputAssembler assembler, OutputAssembler::Create(plan));
  std::lock_guard<std::mutex> lock(job->mu);
  if (job->plan) job->model_inputs += static_cast<int>(job->plan->size());
  job->plan.emplace(std::move(plan));
  job->assembler.emplace(std::move(assembler));
  job->scale = scale;
  job->next = job->received = 0;
  job->inflight = 0;
  job->inputs_made.store(0);
  return Status::Ok();
}

void SegmentService::SubmitMore(const std::shared_ptr<Job>& job) {
  size_t begin, end;
  {
    std::lock_guard<std::mutex> lock(job->mu);
    begin = job->next;
    size_t room = static_cast<size_t>(std::max(0, options_.max_inflight_inputs - job->inflight));
    end = std::min(job->plan->size(), begin + room);
    job->next = end;
    job->inflight += static_cast<int>(end - begin);
  }
  for (size_t i = begin; i < end && !job->finished.load(); ++i) {
    const SteadyTime t0 = clock_->Now();
    auto input = job->plan->MakeInput(i);
    if (job->inputs_made.fetch_add(1) + 1 == job->plan->size()) job->plan->ReleaseSource();
    if (!input.ok()) return Complete(job, input.status());
    {
      std::lock_guard<std::mutex> lock(job->mu);
      job->preprocessing_s += Seconds(t0, clock_->Now());
    }
    engine::InferRequest req;
    req.model = job->config.name;
    req.client_id = job->request.client_id;
    req.priority = job->request.priority;
    req.input = std::move(*input);
    req.deadline = job->request.deadline;
    req.cancel = job->request.cancel;
    Status s = engine_->Submit(
        std::move(req), [this, job, i](Result<InferResult> r) { OnOutput(job, i, std::move(r)); });
    if (!s.ok()) return Complete(job, s);
  }
}

void SegmentService::OnOutput(const std::shared_ptr<Job>& job, size_t index,
                              Result<InferResult> r) {
  // Engine instance threads only hand the result over; the pool does the work.
  auto shared = std::make_shared<Result<InferResult>>(std::move(r));
  Status posted = pool_->PostAdmitted([this, job, index, shared] {
    if (job->finished.load()) return;
    if (!shared->ok()) return Complete(job, shared->status());
    bool all = false;
    Status added;
    {
      std::lock_guard<std::mutex> lock(job->mu);
      added = job->assembler->Add(*job->plan, index, (*shared)->output);
      job->received++;
      job->inflight--;
      job->batch_max = std::max(job->batch_max, (*shared)->batch_size);
      job->last_output = clock_->Now();
      all = job->received == job->plan->size();
    }
    if (!added.ok()) return Complete(job, added);
    if (all) return Finish(job);
    SubmitMore(job);
  });
  if (!posted.ok()) Complete(job, posted);
}

void SegmentService::Finish(const std::shared_ptr<Job>& job) {
  const SteadyTime start = clock_->Now();
  const SegmentRequest& req = job->request;
  const engine::ModelConfig& cfg = job->config;
  SegmentResult result;
  try {
    Result<cv::Mat> maps = [&] {
      std::lock_guard<std::mutex> lock(job->mu);
      return job->assembler->Finish(*job->plan);
    }();
    if (!maps.ok()) return Complete(job, maps.status());
    std::vector<cv::Mat> planes;  // foreground probability, then cores if the model has them
    if (maps->channels() == 1) {
      planes.push_back(*maps);  // no copy of the common one-plane map
    } else {
      cv::split(*maps, planes);
    }
    const imaging::PolygonOptions popt = PolygonOptionsFor(req, cfg);
    bool instances = req.separate_instances.value_or(cfg.postprocess.instances != "none");
    std::optional<cv::Mat> labels;  // instances, at the image's own size
    if (instances) {
      auto found = InstanceLabels(planes, cfg, popt.threshold);
      if (!found.ok()) return Complete(job, found.status());
      if (!job->source.empty() && MaybeRescale(job, *found, popt.min_area, start)) return;
      labels = ResizeLabels(*found, job->image_size);
    }
    planes[0] = ToImageSize(planes[0], job->image_size);
    const cv::Mat* prob = &planes[0];
    Result<std::vector<imaging::Polygon>> polygons =
        labels ? imaging::PolygonsFromLabels(*labels, *prob, popt)
               : imaging::PolygonsFromProbabilities(*prob, popt);
    if (!polygons.ok()) return Complete(job, polygons.status());
    result.polygons = std::move(*polygons);
    if (req.compute_metrics) result.metrics = MetricsOf(result.polygons, req.um_per_px);
    result.threshold = popt.threshold;
    if (req.keep_image) {
      result.image = job->image;
      result.probabilities = *prob;
    }
  } catch (const std::exception& e) {
    return Complete(job, Internal(std::string("post-processing failed: ") + e.what()));
  }
  const SteadyTime end = clock_->Now();
  result.model = cfg.name;
  result.width = job->image_size.width;
  result.height = job->image_size.height;
  result.device = job->device;
  result.um_per_px = req.um_per_px;
  result.scale = job->scale;
  {
    std::lock_guard<std::mutex> lock(job->mu);
    result.batch_size_used = job->batch_max;
    result.timing.preprocessing_s = job->preprocessing_s;
    result.timing.decode_s = job->decode_s;
    result.timing.inference_s = Seconds(job->first_submit, job->last_output);
    result.model_inputs = job->model_inputs + static_cast<int>(job->plan->size());
    result.timing.postprocessing_s = job->first_pass_s + Seconds(start, end);
  }
  result.timing.queue_s = job->queue_s;
  result.timing.total_s = Seconds(job->accepted, end);
  Complete(job, std::move(result));
}

bool SegmentService::MaybeRescale(const std::shared_ptr<Job>& job, const cv::Mat& labels,
                                  double min_area, SteadyTime start) {
  const cv::Mat source = std::move(job->source);  // a second pass never measures again
  const double scale = ChooseScale(job->config.input, MedianObjectDiameter(labels, min_area),
                                   static_cast<double>(job->image_size.area()),
                                   static_cast<double>(options_.limits.max_pixels));
  if (scale == 1) return false;
  Status started = StartPass(job, source, scale);
  {
    std::lock_guard<std::mutex> lock(job->mu);
    job->first_pass_s = Seconds(start, clock_->Now());
  }
  if (!started.ok()) {
    Complete(job, started);
  } else {
    SubmitMore(job);
  }
  return true;
}

void SegmentService::Complete(const std::shared_ptr<Job>& job, Result<SegmentResult> result) {
  if (job->finished.exchange(true)) return;
  pending_.fetch_sub(1);
  if (metrics_->images) {
    std::string outcome = result.ok() ? "ok" : std::string(StatusCodeName(result.status().code()));
    metrics_->images->WithLabels({job->config.name, outcome}).Inc();
    if (result.ok()) {
      const SegmentTiming& t = result->timing;
      metrics_->stage->WithLabels({"queue"}).Observe(t.queue_s);
      metrics_->stage->WithLabels({"preprocess"}).Observe(t.preprocessing_s);
      metrics_->stage->WithLabels({"inference"}).Observe(t.inference_s);
      metrics_->stage->WithLabels({"postprocess"}).Observe(t.postprocessing_s);
    }
  }
  if (!result.ok()) {
    SEGHUB_LOG_DEBUG("segmentation with model {} failed: {}", job->config.name,
                     result.status().ToString());
  }
  job->done(std::move(result));
}

nlohmann::json SegmentResultToHubJson(const SegmentResult& r) {
  nlohmann::json polygons = imaging::HubPolygonsJson(r.polygons, &r.metrics, r.um_per_px);
  return {{"success", true},
          {"model_used", r.model},
          {"threshold_used", r.threshold},
          {"image_size", {{"width", r.width}, {"height", r.height}}},
          {"polygons", std::move(polygons)},
          {"processing_time", r.timing.total_s},
          {"inference_time", r.timing.inference_s},
          {"preprocessing_time", r.timing.preprocessing_s},
          {"postprocessing_time", r.timing.postprocessing_s},
          {"queue_time", r.timing.queue_s},
          {"device", r.device},
          {"gpu_enabled", r.device.rfind("cuda", 0) == 0},
          {"batch_size_used", r.batch_size_used},
          {"tiles", r.model_inputs},
          {"scale", r.scale}};
}

}  // namespace seghub::pipeline
