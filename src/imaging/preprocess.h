// The Hub's model-input preprocessing (architectures.md §5.2): channel adaptation, resize to W×H
// with Pillow's antialiased bilinear filter (aspect ratio not kept), scale to [0,1], per-channel
// (v - mean) / std in float32, planar NCHW (N = 1), RGB order.
//
// Two input paths: 8-bit images follow the Hub bit-exactly (resize on uint8, then float32(p)/255);
// 16-bit and float images are normalised to [0,1] first (percentiles, see normalize.h) and resized
// in float, so no precision is thrown away. Pure functions; thread-safe.
#ifndef SEGHUB_IMAGING_PREPROCESS_H_
#define SEGHUB_IMAGING_PREPROCESS_H_

#include <opencv2/core.hpp>
#include <vector>

#include "common/status.h"
#include "imaging/decode.h"
#include "imaging/normalize.h"

namespace seghub::imaging {

struct PreprocessOptions {
  cv::Size size{1024, 1024};  // the Hub's fixed model input (width, height)
  int channels = 3;
  // ImageNet statistics, as the Hub uses for all three models; one value per channel.
  std::vector<float> mean{0.485f, 0.456f, 0.406f};
  std::vector<float> std{0.229f, 0.224f, 0.225f};
  NormalizeOptions normalize;  // used for 16-bit / float inputs
};

// One image as a planar float tensor of shape [1, channels, height, width].
struct PlanarImage {
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<float> data;  // channels * height * width values, C-order
};

// `image`: CV_8UC1/3 (Hub path), CV_16UC1/3 or CV_32FC1/3, RGB order.
Result<PlanarImage> Preprocess(const cv::Mat& image, const PreprocessOptions& options = {});

inline Result<PlanarImage> Preprocess(const DecodedImage& image,
                                      const PreprocessOptions& options = {}) {
  return Preprocess(image.pixels, options);
}

// Final step alone: a [0,1] float image (already at the model size) -> (v - mean)/std planar.
Result<PlanarImage> NormalizeToPlanar(const cv::Mat& unit_image, const std::vector<float>& mean,
                                      const std::vector<float>& std);

}  // namespace seghub::imaging

#endif  // SEGHUB_IMAGING_PREPROCESS_H_
