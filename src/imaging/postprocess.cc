#include "imaging/postprocess.h"

#include <cmath>
#include <opencv2/imgproc.hpp>
#include <string>

namespace seghub::imaging {

bool NeedsSigmoid(std::span<const float> values) {
  for (float v : values) {
    if (v < 0.0f || v > 1.0f) return true;
  }
  return false;
}

Result<cv::Mat> ProbabilityMap(std::span<const float> plane, int height, int width,
                               bool apply_sigmoid, cv::Size original_size) {
  if (height <= 0 || width <= 0 || plane.size() != static_cast<size_t>(height) * width) {
    return InvalidArgument("model output plane has " + std::to_string(plane.size()) +
                           " values, expected " + std::to_string(height) + "x" +
                           std::to_string(width));
  }
  if (original_size.width <= 0 || original_size.height <= 0) {
    return InvalidArgument("original image size must be positive");
  }
  cv::Mat prob(height, width, CV_32FC1);
  float* p = prob.ptr<float>();
  for (size_t i = 0; i < plane.size(); ++i) {
    p[i] = apply_sigmoid ? 1.0f / (1.0f + std::exp(-plane[i])) : plane[i];
  }
  if (prob.size() == original_size) return prob;
  cv::Mat out;
  try {
    cv::resize(prob, out, original_size, 0, 0, cv::INTER_LINEAR);
  } catch (const cv::Exception& e) {
    return Internal(std::string("probability resize failed: ") + e.what());
  }
  return out;
}

}  // namespace seghub::imaging
