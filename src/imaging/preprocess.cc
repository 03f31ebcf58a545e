#include "imaging/preprocess.h"

#include <string>

#include "imaging/pil_resize.h"

namespace seghub::imaging {

Result<PlanarImage> NormalizeToPlanar(const cv::Mat& unit_image, const std::vector<float>& mean,
                                      const std::vector<float>& std) {
  const int cn = unit_image.channels();
  if (unit_image.empty() || unit_image.depth() != CV_32F) {
    return InvalidArgument("planar normalisation needs a non-empty float image");
  }
  if (static_cast<int>(mean.size()) != cn || static_cast<int>(std.size()) != cn) {
    return InvalidArgument("mean/std need one value per channel (" + std::to_string(cn) + ")");
  }
  for (float s : std) {
    if (!(s > 0.0f)) return InvalidArgument("std values must be positive");
  }
  PlanarImage out{cn, unit_image.rows, unit_image.cols, {}};
  const size_t plane = static_cast<size_t>(out.height) * out.width;
  out.data.resize(plane * cn);
  for (int y = 0; y < out.height; ++y) {
    const float* row = unit_image.ptr<float>(y);
    for (int x = 0; x < out.width; ++x) {
      for (int c = 0; c < cn; ++c) {
        // Two float32 operations in this order, exactly as torchvision Normalize computes them.
        out.data[c * plane + static_cast<size_t>(y) * out.width + x] =
            (row[x * cn + c] - mean[c]) / std[c];
      }
    }
  }
  return out;
}

Result<PlanarImage> Preprocess(const cv::Mat& image, const PreprocessOptions& options) {
  if (image.empty()) return InvalidArgument("cannot preprocess an empty image");
  if (options.channels != 1 && options.channels != 3) {
    return InvalidArgument("models take 1 or 3 channels, not " + std::to_string(options.channels));
  }
  SEGHUB_ASSIGN_OR_RETURN(const cv::Mat adapted, ToChannels(image, options.channels));
  cv::Mat unit;
  if (adapted.depth() == CV_8U) {
    // Hub path: resize on uint8 (rounding per pass, as Pillow), then /255.
    SEGHUB_ASSIGN_OR_RETURN(const cv::Mat resized, PilResizeBilinear(adapted, options.size));
    SEGHUB_ASSIGN_OR_RETURN(unit, NormalizeToUnit(resized, options.normalize));
  } else {
    SEGHUB_ASSIGN_OR_RETURN(const cv::Mat normalised, NormalizeToUnit(adapted, options.normalize));
    SEGHUB_ASSIGN_OR_RETURN(unit, PilResizeBilinear(normalised, options.size));
  }
  return NormalizeToPlanar(unit, options.mean, options.std);
}

}  // namespace seghub::imaging
