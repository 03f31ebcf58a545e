#include "imaging/pil_resize.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace seghub::imaging {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS

// Taps of one output sample: inputs [first, first + weights.size()).
struct Taps {
  int first = 0;
  std::vector<double> weights;
  std::vector<int32_t> fixed;  // weights in 2^-22 units, for the 8-bit path
};

// Pillow's precompute_coeffs() with the bilinear (triangle) filter, written the same way so the
// double arithmetic rounds identically.
std::vector<Taps> ComputeTaps(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = 1.0 * filter_scale;
  const double ss = 1.0 / filter_scale;
  std::vector<Taps> taps(out_size);
  for (int i = 0; i < out_size; ++i) {
    const double center = (i + 0.5) * scale;
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xmax = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;
    Taps& t = taps[i];
    t.first = xmin;
    double sum = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double d = std::abs((x + xmin - center + 0.5) * ss);
      const double w = d < 1.0 ? 1.0 - d : 0.0;
      t.weights.push_back(w);
      sum += w;
    }
    for (double& w : t.weights) {
      if (sum != 0.0) w /= sum;
      t.fixed.push_back(static_cast<int32_t>(w < 0 ? w * (1 << kPrecisionBits) - 0.5
                                                   : w * (1 << kPrecisionBits) + 0.5));
    }
  }
  return taps;
}

uint8_t Clip8(int64_t acc) {
  if (acc >= (int64_t{1} << kPrecisionBits << 8)) return 255;
  if (acc <= 0) return 0;
  return static_cast<uint8_t>(acc >> kPrecisionBits);
}

// One pass along x (horizontal) or y (vertical). `T` is uint8_t or float.
template <typename T>
cv::Mat ResamplePass(const cv::Mat& in, int out_size, bool horizontal) {
  const int in_size = horizontal ? in.cols : in.rows;
  const std::vector<Taps> taps = ComputeTaps(in_size, out_size);
  const int cn = in.channels();
  cv::Mat out(horizontal ? in.rows : out_size, horizontal ? out_size : in.cols, in.type());
  for (int y = 0; y < out.rows; ++y) {
    T* o = out.ptr<T>(y);
    for (int x = 0; x < out.cols; ++x) {
      const Taps& t = taps[horizontal ? x : y];
      for (int c = 0; c < cn; ++c) {
        int64_t acc_fixed = int64_t{1} << (kPrecisionBits - 1);
        double acc = 0.0;
        for (size_t k = 0; k < t.weights.size(); ++k) {
          const int src = t.first + static_cast<int>(k);
          const T v = horizontal ? in.ptr<T>(y)[src * cn + c] : in.ptr<T>(src)[x * cn + c];
          if constexpr (std::is_same_v<T, uint8_t>) {
            acc_fixed += int64_t{v} * t.fixed[k];
          } else {
            acc += static_cast<double>(v) * t.weights[k];
          }
        }
        if constexpr (std::is_same_v<T, uint8_t>) {
          o[x * cn + c] = Clip8(acc_fixed);
        } else {
          o[x * cn + c] = static_cast<float>(acc);
        }
      }
    }
  }
  return out;
}

template <typename T>
cv::Mat Resize(const cv::Mat& image, cv::Size size) {
  cv::Mat out = image;
  if (size.width != out.cols) out = ResamplePass<T>(out, size.width, /*horizontal=*/true);
  if (size.height != out.rows) out = ResamplePass<T>(out, size.height, /*horizontal=*/false);
  return out.data == image.data ? image.clone() : out;
}

}  // namespace

Result<cv::Mat> PilResizeBilinear(const cv::Mat& image, cv::Size size) {
  if (image.empty()) return InvalidArgument("cannot resize an empty image");
  if (size.width <= 0 || size.height <= 0) {
    return InvalidArgument("resize target must be positive, got " + std::to_string(size.width) +
                           "x" + std::to_string(size.height));
  }
  if (image.channels() > 4) return InvalidArgument("resize supports at most 4 channels");
  if (image.depth() == CV_8U) return Resize<uint8_t>(image, size);
  if (image.depth() == CV_32F) return Resize<float>(image, size);
  return InvalidArgument("resize needs 8-bit or float samples");
}

}  // namespace seghub::imaging
