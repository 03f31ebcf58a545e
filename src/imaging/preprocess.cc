#include "imaging/preprocess.h"

#include <array>
#include <string>

#include "imaging/pil_resize.h"

namespace seghub::imaging {

namespace {

Status CheckMeanStd(int channels, const std::vector<float>& mean, const std::vector<float>& std) {
  if (static_cast<int>(mean.size()) != channels || static_cast<int>(std.size()) != channels) {
    return InvalidArgument("mean/std need one value per channel (" + std::to_string(channels) +
                           ")");
  }
  for (float s : std) {
    if (!(s > 0.0f)) return InvalidArgument("std values must be positive");
  }
  return Status::Ok();
}

// Interleaved samples of type T to planar floats: out[c][y][x] = value(sample, c), a row and a
// channel at a time so every plane is written in order.
template <typename T, typename Value>
PlanarImage Planarize(const cv::Mat& image, Value value) {
  const int cn = image.channels();
  PlanarImage out{cn, image.rows, image.cols, {}};
  const size_t plane = static_cast<size_t>(out.height) * out.width;
  out.data.resize(plane * cn);
  for (int y = 0; y < out.height; ++y) {
    const T* row = image.ptr<T>(y);
    for (int c = 0; c < cn; ++c) {
      float* dst = out.data.data() + c * plane + static_cast<size_t>(y) * out.width;
      for (int x = 0; x < out.width; ++x) dst[x] = value(row[x * cn + c], c);
    }
  }
  return out;
}

// 8-bit samples straight to planar (float32(v) / 255 - mean) / std through one 256-entry table
// per channel: the same float32 operations as NormalizeToUnit followed by NormalizeToPlanar, so
// the same bits, in one pass over the pixels instead of two over a float copy of the image.
Result<PlanarImage> PlanarFromBytes(const cv::Mat& image, const std::vector<float>& mean,
                                    const std::vector<float>& std) {
  const int cn = image.channels();
  SEGHUB_RETURN_IF_ERROR(CheckMeanStd(cn, mean, std));
  std::vector<std::array<float, 256>> lut(cn);
  for (int c = 0; c < cn; ++c) {
    for (int v = 0; v < 256; ++v) lut[c][v] = (static_cast<float>(v) / 255.0f - mean[c]) / std[c];
  }
  return Planarize<uint8_t>(image, [&](uint8_t v, int c) { return lut[c][v]; });
}

}  // namespace

Result<PlanarImage> NormalizeToPlanar(const cv::Mat& unit_image, const std::vector<float>& mean,
                                      const std::vector<float>& std) {
  const int cn = unit_image.channels();
  if (unit_image.empty() || unit_image.depth() != CV_32F) {
    return InvalidArgument("planar normalisation needs a non-empty float image");
  }
  SEGHUB_RETURN_IF_ERROR(CheckMeanStd(cn, mean, std));
  // Two float32 operations in this order, exactly as torchvision Normalize computes them.
  return Planarize<float>(unit_image, [&](float v, int c) { return (v - mean[c]) / std[c]; });
}

Result<PlanarImage> Preprocess(const cv::Mat& image, const PreprocessOptions& options) {
  if (image.empty()) return InvalidArgument("cannot preprocess an empty image");
  if (options.channels != 1 && options.channels != 3) {
    return InvalidArgument("models take 1 or 3 channels, not " + std::to_string(options.channels));
  }
  SEGHUB_ASSIGN_OR_RETURN(const cv::Mat adapted, ToChannels(image, options.channels));
  // Pillow returns an image already at the target size unchanged; so do we, without a copy (both
  // paths below only read it).
  const bool same_size = adapted.size() == options.size;
  if (adapted.depth() == CV_8U) {
    // Hub path: resize on uint8 (rounding per pass, as Pillow), then /255.
    cv::Mat resized = adapted;
    if (!same_size) {
      SEGHUB_ASSIGN_OR_RETURN(resized, PilResizeBilinear(adapted, options.size));
    }
    if (options.normalize.mode != NormalizeMode::kPercentile) {
      return PlanarFromBytes(resized, options.mean, options.std);
    }
    SEGHUB_ASSIGN_OR_RETURN(const cv::Mat unit, NormalizeToUnit(resized, options.normalize));
    return NormalizeToPlanar(unit, options.mean, options.std);
  }
  SEGHUB_ASSIGN_OR_RETURN(cv::Mat unit, NormalizeToUnit(adapted, options.normalize));
  if (!same_size) {
    SEGHUB_ASSIGN_OR_RETURN(unit, PilResizeBilinear(unit, options.size));
  }
  return NormalizeToPlanar(unit, options.mean, options.std);
}

}  // namespace seghub::imaging
