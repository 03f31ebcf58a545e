// Model output -> probability map at the original image size, as the Hub does (§5.3): sigmoid
// only when the logits leave [0,1] (checked over the whole batch by the caller's choice of
// `values`), then cv::resize INTER_LINEAR (not antialiased) on float32 back to (width, height).
// Pure functions; thread-safe.
#ifndef SEGHUB_IMAGING_POSTPROCESS_H_
#define SEGHUB_IMAGING_POSTPROCESS_H_

#include <opencv2/core.hpp>
#include <span>

#include "common/status.h"

namespace seghub::imaging {

// True when any value lies outside [0,1], i.e. the Hub would apply a sigmoid. Pass the whole
// batch's output to reproduce the Hub's batch-wide decision.
bool NeedsSigmoid(std::span<const float> values);

// One H×W plane of model output -> CV_32FC1 probabilities at `original_size`.
Result<cv::Mat> ProbabilityMap(std::span<const float> plane, int height, int width,
                               bool apply_sigmoid, cv::Size original_size);

}  // namespace seghub::imaging

#endif  // SEGHUB_IMAGING_POSTPROCESS_H_
