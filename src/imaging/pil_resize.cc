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

uint8_t Clip8(int32_t acc) {
  if (acc >= (int32_t{1} << kPrecisionBits << 8)) return 255;
  if (acc <= 0) return 0;
  return static_cast<uint8_t>(acc >> kPrecisionBits);
}

// Accumulator of one output sample: Pillow sums 8-bit samples times fixed-point weights in an
// int32 starting at half a unit, and float samples times double weights in a double.
template <typename T>
using Acc = std::conditional_t<std::is_same_v<T, uint8_t>, int32_t, double>;

template <typename T>
Acc<T> Weight(const Taps& t, size_t k) {
  if constexpr (std::is_same_v<T, uint8_t>) {
    return t.fixed[k];
  } else {
    return t.weights[k];
  }
}

template <typename T>
T Store(Acc<T> acc) {
  if constexpr (std::is_same_v<T, uint8_t>) {
    return Clip8(acc);
  } else {
    return static_cast<float>(acc);
  }
}

template <typename T>
constexpr Acc<T> kAccStart = std::is_same_v<T, uint8_t> ? Acc<T>{1 << (kPrecisionBits - 1)} : 0;

// Along x: each output sample of a row from a few neighbouring input samples. `CN` is the
// channel count, a template argument so the channel loop unrolls.
template <typename T, int CN>
cv::Mat HorizontalPass(const cv::Mat& in, int out_size) {
  const std::vector<Taps> taps = ComputeTaps(in.cols, out_size);
  cv::Mat out(in.rows, out_size, in.type());
  for (int y = 0; y < in.rows; ++y) {
    const T* row = in.ptr<T>(y);
    T* o = out.ptr<T>(y);
    for (int x = 0; x < out_size; ++x) {
      const Taps& t = taps[x];
      const T* src = row + static_cast<ptrdiff_t>(t.first) * CN;
      Acc<T> acc[CN];
      for (int c = 0; c < CN; ++c) acc[c] = kAccStart<T>;
      for (size_t k = 0; k < t.weights.size(); ++k) {
        const Acc<T> w = Weight<T>(t, k);
        for (int c = 0; c < CN; ++c) acc[c] += static_cast<Acc<T>>(src[k * CN + c]) * w;
      }
      for (int c = 0; c < CN; ++c) o[x * CN + c] = Store<T>(acc[c]);
    }
  }
  return out;
}

// Along y: each output row as a weighted sum of a few input rows, accumulated a whole row at a
// time so the inner loop runs over contiguous samples (and vectorises).
template <typename T>
cv::Mat VerticalPass(const cv::Mat& in, int out_size) {
  const std::vector<Taps> taps = ComputeTaps(in.rows, out_size);
  const int n = in.cols * in.channels();
  cv::Mat out(out_size, in.cols, in.type());
  std::vector<Acc<T>> acc(n);
  for (int y = 0; y < out_size; ++y) {
    const Taps& t = taps[y];
    std::fill(acc.begin(), acc.end(), kAccStart<T>);
    for (size_t k = 0; k < t.weights.size(); ++k) {
      const T* row = in.ptr<T>(t.first + static_cast<int>(k));
      const Acc<T> w = Weight<T>(t, k);
      for (int i = 0; i < n; ++i) acc[i] += static_cast<Acc<T>>(row[i]) * w;
    }
    T* o = out.ptr<T>(y);
    for (int i = 0; i < n; ++i) o[i] = Store<T>(acc[i]);
  }
  return out;
}

template <typename T>
cv::Mat ResamplePass(const cv::Mat& in, int out_size, bool horizontal) {
  if (!horizontal) return VerticalPass<T>(in, out_size);
  switch (in.channels()) {
    case 1:
      return HorizontalPass<T, 1>(in, out_size);
    case 2:
      return HorizontalPass<T, 2>(in, out_size);
    case 3:
      return HorizontalPass<T, 3>(in, out_size);
    default:
      return HorizontalPass<T, 4>(in, out_size);
  }
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
