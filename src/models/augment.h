// Training-time augmentation of an (image, mask) pair for segmentation (models/seg_training.h).
//
// Works on the 8-bit RGB image before preprocessing, so that the network still sees exactly the
// inference path (imaging::Preprocess on uint8). Geometric steps (flips, 90° rotations, scale)
// apply to image and mask alike; photometric steps (brightness/contrast/gamma, blur, noise) to
// the image only. Deterministic: the same seed gives the same result (cv::RNG, no global
// state). Pure function; thread-safe.
#ifndef SEGHUB_MODELS_AUGMENT_H_
#define SEGHUB_MODELS_AUGMENT_H_

#include <cstdint>
#include <opencv2/core.hpp>

#include "common/status.h"

namespace seghub::models {

struct AugmentOptions {
  bool flips = true;      // horizontal and vertical, each with probability 0.5
  bool rotations = true;  // 0/90/180/270°, uniformly (non-square images change aspect)
  // Zoom factor drawn log-uniformly from [min_scale, max_scale]; zoom-in crops at a random
  // position, zoom-out pads by reflection. Spheroid sizes vary a lot between microscopes.
  double min_scale = 0.75;
  double max_scale = 1.33;
  double brightness = 0.15;        // additive, +- this fraction of full scale
  double contrast = 0.25;          // multiplicative about mid-grey, 1 +- this
  double gamma = 0.3;              // exponent exp(+- this)
  double blur_probability = 0.25;  // Gaussian blur, sigma uniform in [0.5, 2]
  double noise_probability = 0.5;  // Gaussian noise, sigma uniform in [0, max_noise_sigma]
  double max_noise_sigma = 8.0;    // grey levels
};

// `image`: CV_8UC1 or CV_8UC3; `mask`: CV_8UC1 of the same size (0 / 255, or label values kept
// by nearest-neighbour resampling). Both are replaced. InvalidArgument on bad types or sizes.
Status AugmentPair(const AugmentOptions& options, uint64_t seed, cv::Mat* image, cv::Mat* mask);

}  // namespace seghub::models

#endif  // SEGHUB_MODELS_AUGMENT_H_
