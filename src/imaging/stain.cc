#include "imaging/stain.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "imaging/normalize.h"

namespace seghub::imaging {
namespace {

constexpr double kMinChroma = 0.06;
constexpr int kSampleStride = 4;
constexpr double kGlassPercentile = 99.0;  // every 4th row and column: the decision needs no more

double TypeMax(int depth) { return depth == CV_16U ? 65535.0 : 255.0; }

bool SupportedRgb(const cv::Mat& m) {
  return m.channels() == 3 && (m.depth() == CV_8U || m.depth() == CV_16U) && !m.empty();
}

// Rows: haematoxylin, eosin, DAB optical-density directions (Ruifrok & Johnston), unit length.
cv::Matx33d StainMatrix() {
  cv::Matx33d m(0.650, 0.704, 0.286,   // haematoxylin
                0.072, 0.990, 0.105,   // eosin
                0.268, 0.570, 0.776);  // DAB
  for (int r = 0; r < 3; ++r) {
    const double n = std::sqrt(m(r, 0) * m(r, 0) + m(r, 1) * m(r, 1) + m(r, 2) * m(r, 2));
    for (int c = 0; c < 3; ++c) m(r, c) /= n;
  }
  return m;
}

template <typename T>
void Sample(const cv::Mat& rgb, std::vector<float>* grey, double* chroma_sum, size_t* n) {
  const double scale = 1.0 / TypeMax(rgb.depth());
  for (int y = 0; y < rgb.rows; y += kSampleStride) {
    const T* p = rgb.ptr<T>(y);
    for (int x = 0; x < rgb.cols; x += kSampleStride) {
      const double r = p[3 * x] * scale, g = p[3 * x + 1] * scale, b = p[3 * x + 2] * scale;
      grey->push_back(static_cast<float>(0.299 * r + 0.587 * g + 0.114 * b));
      *chroma_sum += std::max({r, g, b}) - std::min({r, g, b});
      ++*n;
    }
  }
}

}  // namespace

bool LooksStained(const cv::Mat& rgb) {
  if (!SupportedRgb(rgb)) return false;
  std::vector<float> grey;
  double chroma = 0.0;
  size_t n = 0;
  if (rgb.depth() == CV_8U) {
    Sample<uint8_t>(rgb, &grey, &chroma, &n);
  } else {
    Sample<uint16_t>(rgb, &grey, &chroma, &n);
  }
  if (n == 0) return false;
  auto mid = grey.begin() + static_cast<std::ptrdiff_t>(grey.size() / 2);
  std::nth_element(grey.begin(), mid, grey.end());
  return *mid > 0.5f && chroma / static_cast<double>(n) >= kMinChroma;
}

Result<cv::Mat> HaematoxylinDensity(const cv::Mat& rgb) {
  if (!SupportedRgb(rgb)) {
    return InvalidArgument("stain separation needs a 3-channel 8- or 16-bit RGB image");
  }
  // The glass (incident light) level of each channel: its 99th percentile, since a photo's
  // background is rarely pure white and would otherwise carry a density of its own.
  std::vector<cv::Mat> planes;
  cv::split(rgb, planes);
  cv::Mat f(rgb.size(), CV_32FC3);
  std::vector<cv::Mat> unit(3);
  for (int c = 0; c < 3; ++c) {
    SEGHUB_ASSIGN_OR_RETURN(const double glass, Percentile(planes[c], kGlassPercentile));
    const double i0 = std::max(glass, 1.0);
    planes[c].convertTo(unit[c], CV_32F, 1.0 / i0);
    cv::min(unit[c], 1.0, unit[c]);
    cv::max(unit[c], 1.0 / i0, unit[c]);
  }
  cv::merge(unit, f);
  cv::log(f, f);  // ln(I / I0) <= 0; the optical density is its negation
  // H = OD . column 0 of the inverse stain matrix: OD = c^T M, so c^T = OD M^-1.
  const cv::Matx33d inv = StainMatrix().inv();
  const double wr = inv(0, 0), wg = inv(1, 0), wb = inv(2, 0);
  cv::Mat h(rgb.size(), CV_32FC1);
  for (int y = 0; y < f.rows; ++y) {
    const float* p = f.ptr<float>(y);
    float* o = h.ptr<float>(y);
    for (int x = 0; x < f.cols; ++x) {
      const double v = -(wr * p[3 * x] + wg * p[3 * x + 1] + wb * p[3 * x + 2]);
      o[x] = static_cast<float>(std::max(0.0, v));
    }
  }
  return h;
}

Result<cv::Mat> ModelChannels(const cv::Mat& pixels, int channels, bool stain_auto) {
  if (stain_auto && channels == 1 && LooksStained(pixels)) return HaematoxylinDensity(pixels);
  return ToChannels(pixels, channels);
}

}  // namespace seghub::imaging
