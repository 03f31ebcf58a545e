// Pillow's Image.resize(..., BILINEAR): an antialiased, separable triangle filter (support scales
// with the downscale factor), horizontal pass first, each pass rounding back to uint8 with 22-bit
// fixed-point weights. This is what the Hub's torchvision Resize((H, W)) does on a PIL image, and
// cv::resize is no substitute (INTER_LINEAR is off by up to 24 grey levels when downscaling).
// The 8-bit path bit-matches Pillow 9.4 (architectures.md §5.2, preprocess_* test vectors); the
// float path uses the same weights without rounding, for 16-bit data normalised to [0,1].
// Pure function; thread-safe.
#ifndef SEGHUB_IMAGING_PIL_RESIZE_H_
#define SEGHUB_IMAGING_PIL_RESIZE_H_

#include <opencv2/core.hpp>

#include "common/status.h"

namespace seghub::imaging {

// `image` is CV_8UC(n) or CV_32FC(n), n in 1..4; returns the same type at `size`.
Result<cv::Mat> PilResizeBilinear(const cv::Mat& image, cv::Size size);

}  // namespace seghub::imaging

#endif  // SEGHUB_IMAGING_PIL_RESIZE_H_
