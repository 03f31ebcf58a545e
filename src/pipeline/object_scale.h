// Object-size rescaling (model.json input.object_diameter): a net trained on nuclei ~40 px across
// under-splits crowded nuclei a third that size, and over-splits ones three times as large. A
// first pass at the image's own size measures the objects; the image is then resized so they
// come out near the size the model was trained on, and segmented again (segment_service.cc).
//
// Pure functions; any thread.
#ifndef SEGHUB_PIPELINE_OBJECT_SCALE_H_
#define SEGHUB_PIPELINE_OBJECT_SCALE_H_

#include <opencv2/core.hpp>

#include "engine/model_config.h"

namespace seghub::pipeline {

// Scale factors within this ratio of 1 are not worth a second pass.
inline constexpr double kMinRescale = 1.25;
// Fewer objects than this give no usable size estimate.
inline constexpr int kMinObjectsForScale = 3;

// Area-weighted median equivalent diameter sqrt(4 A / pi) over the instances of `labels`
// (CV_32SC1, 0 = background) with area >= min_area px²: the diameter of the object that holds
// the median foreground pixel, so a crowd of small fragments of a few large, textured objects
// does not pass for small objects. 0 when fewer than kMinObjectsForScale qualify.
double MedianObjectDiameter(const cv::Mat& labels, double min_area);

// The factor to resize an image of `pixels` pixels by: input.object_diameter / median_diameter
// clamped to [input.min_scale, input.max_scale] and so that the result stays within
// `max_pixels`; 1 when rescaling is off, there is no estimate, or the factor is within
// kMinRescale of 1.
double ChooseScale(const engine::InputSpec& input, double median_diameter, double pixels,
                   double max_pixels);

// `labels` (CV_32SC1) at `size` by nearest neighbour: every label keeps its id.
cv::Mat ResizeLabels(const cv::Mat& labels, cv::Size size);

}  // namespace seghub::pipeline

#endif  // SEGHUB_PIPELINE_OBJECT_SCALE_H_
