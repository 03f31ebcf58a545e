// Training-time augmentation that changes the contrast of single labelled objects and of broad
// regions of a crop (models/seg_crops.h), so that a nucleus counts as a nucleus at any brightness.
//
// Why: fluorescence images mix bright and dim nuclei, and the percentile mapping that serving
// applies to the whole image puts the dim ones near the background when a few bright (or
// saturated) ones set the top of the range. The U2OS/NIH3T3 training images hold few dim nuclei,
// so without this the net learns "bright blob" rather than "nucleus-shaped blob".
//
// Each pixel p becomes bg + (p - bg) * g(p), where bg is the mean of the crop's unlabelled pixels
// and g is 1 on the background, a per-object factor inside objects picked for dimming, smoothed
// by a Gaussian so that the change fades out across each object's edge instead of making a step
// the net could learn, and multiplied by a smooth field (a coarse grid of gains, bicubically
// enlarged) when `illumination` > 0. The target is not touched: the objects stay labelled.
//
// Pure function of its inputs and the RNG state; thread-compatible.
#ifndef SEGHUB_MODELS_INSTANCE_CONTRAST_H_
#define SEGHUB_MODELS_INSTANCE_CONTRAST_H_

#include <opencv2/core.hpp>

#include "common/status.h"

namespace seghub::models {

struct InstanceContrastOptions {
  double probability = 0.0;   // each object is dimmed with this probability (0 = off)
  double min_factor = 0.25;   // a dimmed object's factor, log-uniform in [min_factor, 1]
  double illumination = 0.0;  // smooth field: gains exp(+- this) on a 3x3 grid (0 = off)
  double edge_sigma = 1.5;    // px of the crop: how far the factor fades across an edge
  bool enabled() const { return probability > 0.0 || illumination > 0.0; }
};

// `ids`: CV_32SC1 instance ids of the crop (0 = background), the size of `image`; `image`:
// CV_32FC(n) unit-range pixels, changed in place. Draws from `rng` only when enabled(), so
// runs without it are unchanged. InvalidArgument on bad types, sizes or options.
Status VaryInstanceContrast(const InstanceContrastOptions& options, const cv::Mat& ids,
                            cv::RNG* rng, cv::Mat* image);

}  // namespace seghub::models

#endif  // SEGHUB_MODELS_INSTANCE_CONTRAST_H_
