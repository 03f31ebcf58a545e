#include "pipeline/input_plan.h"

#include <algorithm>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "imaging/normalize.h"
#include "imaging/postprocess.h"
#include "imaging/preprocess.h"

namespace seghub::pipeline {
namespace {

// Networks with four or five 2x downsamplings need sides divisible by 32.
constexpr int kWholeMultiple = 32;

int RoundUp(int v, int m) { return (v + m - 1) / m * m; }

std::vector<float> MeanOrZero(const std::vector<float>& v, int channels) {
  return v.empty() ? std::vector<float>(channels, 0.0f) : v;
}
std::vector<float> StdOrOne(const std::vector<float>& v, int channels) {
  return v.empty() ? std::vector<float>(channels, 1.0f) : v;
}

engine::Tensor FromPlanar(imaging::PlanarImage&& p) {
  return engine::Tensor({p.channels, p.height, p.width}, std::move(p.data));
}

// In place: x -> 1 / (1 + exp(-x)).
void SigmoidInPlace(cv::Mat* m) {
  cv::Mat e;
  cv::exp(-*m, e);
  cv::divide(1.0, 1.0 + e, *m);
}

bool WantSigmoid(const std::string& activation, std::span<const float> plane) {
  if (activation == "sigmoid") return true;
  if (activation == "none") return false;
  return imaging::NeedsSigmoid(plane);
}

}  // namespace

Result<InputPlan> InputPlan::Create(const cv::Mat& pixels, const engine::ModelConfig& config) {
  if (pixels.empty()) return InvalidArgument("the image has no pixels");
  InputPlan plan;
  plan.config_ = config;
  plan.image_size_ = pixels.size();
  SEGHUB_ASSIGN_OR_RETURN(plan.source_, imaging::ToChannels(pixels, config.input.channels));
  imaging::NormalizeOptions n;
  if (config.input.normalize == "percentile") n.mode = imaging::NormalizeMode::kPercentile;
  SEGHUB_ASSIGN_OR_RETURN(
      plan.unit_, imaging::ComputeUnitMapping(plan.source_, n, config.input.invert == "auto"));
  const engine::InputSpec& in = config.input;
  const cv::Rect whole(0, 0, pixels.cols, pixels.rows);
  if (in.resize == "stretch") {
    plan.mode_ = InputMode::kStretch;
    plan.items_ = {whole};
  } else if (in.resize == "tile") {
    plan.mode_ = InputMode::kTile;
    plan.tiling_.tile_size = static_cast<int>(in.tile);
    plan.tiling_.overlap = static_cast<int>(in.tile_overlap);
    SEGHUB_ASSIGN_OR_RETURN(plan.items_, imaging::PlanTiles(plan.image_size_, plan.tiling_));
    plan.flips_ = static_cast<size_t>(std::max(1, in.flips));
  } else {
    plan.mode_ = InputMode::kWhole;
    plan.items_ = {whole};
  }
  return plan;
}

Result<cv::Mat> InputPlan::UnitRegion(const cv::Rect& rect, cv::Size out_size) const {
  cv::Mat region;
  if (mode_ == InputMode::kTile) {
    SEGHUB_ASSIGN_OR_RETURN(region, imaging::ExtractTile(source_, rect, tiling_.tile_size));
  } else {
    int bottom = out_size.height - source_.rows;
    int right = out_size.width - source_.cols;
    cv::copyMakeBorder(source_, region, 0, bottom, 0, right, cv::BORDER_REFLECT_101);
  }
  cv::Mat unit = imaging::ApplyUnitMapping(region, unit_);
  return unit;
}

namespace {

// Variant v of input.flips' dihedral set: v / 4 says transposed (the 90-degree rotations' half
// of the group), v % 4 the cv::flip code (-1 both axes, 0 around x, 1 around y; 2 = none).
// Orders 1, 2 and 4 are the first variants of 8, so each order is a subgroup.
int FlipCode(size_t variant) {
  static constexpr int kCodes[] = {2, -1, 0, 1};
  return kCodes[variant % 4];
}

}  // namespace

void InputPlan::Orient(size_t index, cv::Mat* m) const {
  const size_t v = index % flips_;
  if (v >= 4) cv::transpose(*m, *m);
  if (const int code = FlipCode(v); code != 2) cv::flip(*m, *m, code);
}

void InputPlan::Unorient(size_t index, cv::Mat* m) const {
  const size_t v = index % flips_;
  if (const int code = FlipCode(v); code != 2) cv::flip(*m, *m, code);
  if (v >= 4) cv::transpose(*m, *m);
}

Result<engine::Tensor> InputPlan::MakeInput(size_t index) const {
  if (index >= size()) return OutOfRange("input index out of range");
  if (source_.empty()) return FailedPrecondition("the source image was already released");
  const engine::InputSpec& in = config_.input;
  const int c = in.channels;
  try {
    if (mode_ == InputMode::kStretch) {
      imaging::PreprocessOptions opt;
      opt.size = cv::Size(static_cast<int>(in.size[1]), static_cast<int>(in.size[0]));
      opt.channels = c;
      opt.mean = MeanOrZero(in.mean, c);
      opt.std = StdOrOne(in.std, c);
      SEGHUB_ASSIGN_OR_RETURN(imaging::PlanarImage p, imaging::Preprocess(source_, opt));
      return FromPlanar(std::move(p));
    }
    cv::Size out = mode_ == InputMode::kTile ? cv::Size(tiling_.tile_size, tiling_.tile_size)
                                             : cv::Size(RoundUp(source_.cols, kWholeMultiple),
                                                        RoundUp(source_.rows, kWholeMultiple));
    SEGHUB_ASSIGN_OR_RETURN(cv::Mat unit, UnitRegion(region(index), out));
    Orient(index, &unit);
    SEGHUB_ASSIGN_OR_RETURN(
        imaging::PlanarImage p,
        imaging::NormalizeToPlanar(unit, MeanOrZero(in.mean, c), StdOrOne(in.std, c)));
    return FromPlanar(std::move(p));
  } catch (const cv::Exception& e) {
    return InvalidArgument(std::string("cannot prepare the model input: ") + e.what());
  }
}

Result<OutputAssembler> OutputAssembler::Create(const InputPlan& plan) {
  OutputAssembler a;
  a.planes_ = plan.config().postprocess.instances == "cores" ? 2 : 1;
  if (plan.mode() == InputMode::kTile) {
    SEGHUB_ASSIGN_OR_RETURN(
        imaging::TileBlender b,
        imaging::TileBlender::Create(plan.image_size(), a.planes_, plan.tiling()));
    a.blender_.emplace(std::move(b));
  }
  return a;
}

Status OutputAssembler::Add(const InputPlan& plan, size_t index, const engine::Tensor& output) {
  if (output.shape.size() != 3 || output.shape[0] < planes_) {
    return Internal("model output has shape " + engine::ShapeToString(output.shape) +
                    ", expected [" + std::to_string(planes_) + ", H, W]");
  }
  const int h = static_cast<int>(output.shape[1]);
  const int w = static_cast<int>(output.shape[2]);
  const size_t area = static_cast<size_t>(h) * w;
  const bool sigmoid =
      WantSigmoid(plan.config().output.activation, {output.data.data(), area * planes_});
  try {
    std::vector<cv::Mat> planes;
    for (int c = 0; c < planes_; ++c) {
      std::span<const float> plane(output.data.data() + c * area, area);
      if (plan.mode() == InputMode::kStretch) {
        SEGHUB_ASSIGN_OR_RETURN(cv::Mat p,
                                imaging::ProbabilityMap(plane, h, w, sigmoid, plan.image_size()));
        planes.push_back(p);
        continue;
      }
      cv::Mat m = cv::Mat(h, w, CV_32F, const_cast<float*>(plane.data())).clone();
      if (sigmoid) SigmoidInPlace(&m);
      planes.push_back(m);
    }
    cv::Mat m;
    if (planes.size() == 1) {
      m = planes[0];  // the common one-plane output needs no merged copy
    } else {
      cv::merge(planes, m);
    }
    if (plan.mode() == InputMode::kStretch) {
      single_ = m;
    } else if (plan.mode() == InputMode::kTile) {
      plan.Unorient(index, &m);
      SEGHUB_RETURN_IF_ERROR(blender_->Add(plan.region(index), m));
    } else {
      cv::Size s = plan.image_size();
      if (h < s.height || w < s.width) return Internal("model output smaller than its input");
      single_ = m(cv::Rect(0, 0, s.width, s.height)).clone();
    }
  } catch (const cv::Exception& e) {
    return Internal(std::string("cannot assemble the model output: ") + e.what());
  }
  ++added_;
  return Status::Ok();
}

Result<cv::Mat> OutputAssembler::Finish(const InputPlan& plan) {
  if (added_ < plan.size()) return Internal("not every model input produced an output");
  if (blender_) return blender_->Finish();
  return single_;
}

}  // namespace seghub::pipeline
