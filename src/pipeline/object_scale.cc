#include "pipeline/object_scale.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace seghub::pipeline {

double MedianObjectDiameter(const cv::Mat& labels, double min_area) {
  CV_Assert(labels.type() == CV_32SC1);
  std::vector<int64_t> area;
  for (int y = 0; y < labels.rows; ++y) {
    const int32_t* row = labels.ptr<int32_t>(y);
    for (int x = 0; x < labels.cols; ++x) {
      const int32_t v = row[x];
      if (v <= 0) continue;
      if (static_cast<size_t>(v) >= area.size()) area.resize(static_cast<size_t>(v) + 1, 0);
      ++area[static_cast<size_t>(v)];
    }
  }
  std::vector<int64_t> areas;
  for (int64_t a : area) {
    if (a > 0 && static_cast<double>(a) >= min_area) areas.push_back(a);
  }
  if (areas.size() < static_cast<size_t>(kMinObjectsForScale)) return 0;
  std::sort(areas.begin(), areas.end());
  int64_t total = 0;
  for (int64_t a : areas) total += a;
  int64_t below = 0;
  for (int64_t a : areas) {
    below += a;
    if (2 * below >= total) return std::sqrt(4.0 * static_cast<double>(a) / std::numbers::pi);
  }
  return 0;  // not reached: the loop ends on the largest area at the latest
}

double ChooseScale(const engine::InputSpec& input, double median_diameter, double pixels,
                   double max_pixels) {
  if (input.object_diameter <= 0 || median_diameter <= 0 || pixels <= 0) return 1;
  double s = std::clamp(input.object_diameter / median_diameter, input.min_scale, input.max_scale);
  if (s > 1) s = std::min(s, std::sqrt(max_pixels / pixels));
  if (s < kMinRescale && s > 1 / kMinRescale) return 1;
  return s;
}

cv::Mat ResizeLabels(const cv::Mat& labels, cv::Size size) {
  if (labels.size() == size) return labels;
  cv::Mat out;
  cv::resize(labels, out, size, 0, 0, cv::INTER_NEAREST);
  return out;
}

}  // namespace seghub::pipeline
