#include "models/instance_contrast.h"

#include <cmath>
#include <opencv2/imgproc.hpp>
#include <unordered_map>
#include <vector>

namespace seghub::models {
namespace {

constexpr int kFieldGrid = 3;

// 1 on the background, a drawn factor on every pixel of each object picked for dimming.
cv::Mat ObjectGains(const InstanceContrastOptions& o, const cv::Mat& ids, cv::RNG* rng) {
  cv::Mat gain(ids.size(), CV_32F, cv::Scalar(1));
  if (o.probability <= 0.0) return gain;
  std::unordered_map<int, float> factor;
  const double lo = std::log(o.min_factor);
  for (int y = 0; y < ids.rows; ++y) {
    const int* id = ids.ptr<int>(y);
    float* g = gain.ptr<float>(y);
    for (int x = 0; x < ids.cols; ++x) {
      if (id[x] == 0) continue;
      auto it = factor.find(id[x]);
      if (it == factor.end()) {
        // Drawn in scan order of first appearance: deterministic for a given crop and seed.
        const bool dim = rng->uniform(0.0, 1.0) < o.probability;
        const float f = dim ? static_cast<float>(std::exp(rng->uniform(lo, 0.0))) : 1.0f;
        it = factor.emplace(id[x], f).first;
      }
      g[x] = it->second;
    }
  }
  if (o.edge_sigma > 0.0) cv::GaussianBlur(gain, gain, cv::Size(0, 0), o.edge_sigma);
  return gain;
}

// Smooth multiplicative field, exp(+- illumination) at the nodes of a coarse grid.
cv::Mat IlluminationField(double amplitude, cv::Size size, cv::RNG* rng) {
  cv::Mat grid(kFieldGrid, kFieldGrid, CV_32F);
  for (int y = 0; y < kFieldGrid; ++y) {
    for (int x = 0; x < kFieldGrid; ++x) {
      grid.at<float>(y, x) = static_cast<float>(std::exp(rng->uniform(-amplitude, amplitude)));
    }
  }
  cv::Mat field;
  cv::resize(grid, field, size, 0, 0, cv::INTER_CUBIC);
  return field;
}

}  // namespace

Status VaryInstanceContrast(const InstanceContrastOptions& o, const cv::Mat& ids, cv::RNG* rng,
                            cv::Mat* image) {
  if (!o.enabled()) return Status::Ok();
  if (!(o.probability >= 0.0 && o.probability <= 1.0) || !(o.min_factor > 0.0) ||
      o.min_factor > 1.0 || !(o.illumination >= 0.0) || !(o.edge_sigma >= 0.0)) {
    return InvalidArgument(
        "instance contrast needs probability in [0,1], min factor in (0,1], illumination >= 0");
  }
  if (ids.type() != CV_32SC1 || image == nullptr || image->depth() != CV_32F ||
      image->size() != ids.size()) {
    return InvalidArgument("instance contrast needs CV_32S ids and a float image of one size");
  }
  const cv::Mat background = ids == 0;
  if (cv::countNonZero(background) == 0) return Status::Ok();  // no reference level
  cv::Mat gain = ObjectGains(o, ids, rng);
  if (o.illumination > 0.0) gain = gain.mul(IlluminationField(o.illumination, ids.size(), rng));
  const cv::Scalar bg = cv::mean(*image, background);
  std::vector<cv::Mat> planes;
  cv::split(*image, planes);
  for (size_t c = 0; c < planes.size(); ++c) {
    cv::Mat centred = planes[c] - bg[static_cast<int>(c)];
    planes[c] = centred.mul(gain) + bg[static_cast<int>(c)];
  }
  cv::merge(planes, *image);
  return Status::Ok();
}

}  // namespace seghub::models
