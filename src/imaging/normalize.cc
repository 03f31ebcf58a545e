#include "imaging/normalize.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

namespace seghub::imaging {
namespace {

// NumPy "linear": value at fractional rank p/100*(n-1) of the sorted samples.
double InterpolateRanks(double rank, double lo_value, double hi_value) {
  const double frac = rank - std::floor(rank);
  return lo_value + (hi_value - lo_value) * frac;
}

// Integer images: one exact histogram (no sorting of up to 100 M samples) serves every p.
template <typename T>
std::vector<double> IntegerPercentiles(const cv::Mat& image, const std::vector<double>& ps) {
  constexpr int kBins = 1 << (8 * sizeof(T));
  std::vector<int64_t> hist(kBins, 0);
  for (int y = 0; y < image.rows; ++y) {
    const T* row = image.ptr<T>(y);
    const int n = image.cols * image.channels();
    for (int i = 0; i < n; ++i) ++hist[row[i]];
  }
  const int64_t total = static_cast<int64_t>(image.total()) * image.channels();
  const auto at_rank = [&](int64_t k) {  // k-th smallest sample, 0-based
    int64_t seen = 0;
    for (int v = 0; v < kBins; ++v) {
      seen += hist[v];
      if (seen > k) return v;
    }
    return kBins - 1;
  };
  std::vector<double> out;
  for (double p : ps) {
    const double rank = p / 100.0 * static_cast<double>(total - 1);
    const auto lo = static_cast<int64_t>(std::floor(rank));
    const int64_t hi = std::min(lo + 1, total - 1);
    out.push_back(InterpolateRanks(rank, at_rank(lo), at_rank(hi)));
  }
  return out;
}

// Float images: one copy of the finite samples, partially ordered once per p.
std::vector<double> FloatPercentiles(const cv::Mat& image, const std::vector<double>& ps) {
  std::vector<float> v;
  v.reserve(image.total() * image.channels());
  for (int y = 0; y < image.rows; ++y) {
    const float* row = image.ptr<float>(y);
    for (int i = 0; i < image.cols * image.channels(); ++i) {
      if (std::isfinite(row[i])) v.push_back(row[i]);  // NaN would break the ordering
    }
  }
  std::vector<double> out;
  for (double p : ps) {
    if (v.empty()) {
      out.push_back(0.0);
      continue;
    }
    const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<size_t>(std::floor(rank));
    const size_t hi = std::min(lo + 1, v.size() - 1);
    std::nth_element(v.begin(), v.begin() + lo, v.end());
    const double lo_value = v[lo];
    // After nth_element, the (lo+1)-th smallest is the minimum of the upper part.
    const double hi_value = hi == lo ? lo_value : *std::min_element(v.begin() + hi, v.end());
    out.push_back(InterpolateRanks(rank, lo_value, hi_value));
  }
  return out;
}

double TypeMaximum(int depth) { return depth == CV_8U ? 255.0 : depth == CV_16U ? 65535.0 : 1.0; }

// (v - low) / (high - low) in double, clamped: exactly 0 at `low` and 1 at `high`.
template <typename T>
void ScaleRows(const cv::Mat& image, double low, double high, cv::Mat* out) {
  const double range = high - low;
  const int n = image.cols * image.channels();
  for (int y = 0; y < image.rows; ++y) {
    const T* in = image.ptr<T>(y);
    float* o = out->ptr<float>(y);
    for (int i = 0; i < n; ++i) {
      const double v = (static_cast<double>(in[i]) - low) / range;
      o[i] = std::isfinite(v) ? static_cast<float>(std::clamp(v, 0.0, 1.0)) : 0.0f;  // NaN TIFFs
    }
  }
}

cv::Mat ScaleAndClamp(const cv::Mat& image, double low, double high) {
  cv::Mat out(image.size(), CV_MAKETYPE(CV_32F, image.channels()));
  switch (image.depth()) {
    case CV_8U:
      ScaleRows<uint8_t>(image, low, high, &out);
      break;
    case CV_16U:
      ScaleRows<uint16_t>(image, low, high, &out);
      break;
    default:
      ScaleRows<float>(image, low, high, &out);
      break;
  }
  return out;
}

}  // namespace

Result<std::vector<double>> Percentiles(const cv::Mat& image, const std::vector<double>& ps) {
  if (image.empty()) return InvalidArgument("percentile of an empty image");
  for (double p : ps) {
    if (!(p >= 0.0 && p <= 100.0)) return InvalidArgument("percentile must be in [0, 100]");
  }
  switch (image.depth()) {
    case CV_8U:
      return IntegerPercentiles<uint8_t>(image, ps);
    case CV_16U:
      return IntegerPercentiles<uint16_t>(image, ps);
    case CV_32F:
      return FloatPercentiles(image, ps);
    default:
      return InvalidArgument("percentile needs 8-bit, 16-bit or float samples");
  }
}

Result<double> Percentile(const cv::Mat& image, double p) {
  SEGHUB_ASSIGN_OR_RETURN(const std::vector<double> v, Percentiles(image, {p}));
  return v[0];
}

namespace {

// Preconditions shared by NormalizeToUnit and ComputeUnitMapping.
Status CheckNormalizable(const cv::Mat& image, const NormalizeOptions& options) {
  if (image.empty()) return InvalidArgument("cannot normalise an empty image");
  const int depth = image.depth();
  if (depth != CV_8U && depth != CV_16U && depth != CV_32F) {
    return InvalidArgument("normalisation needs 8-bit, 16-bit or float samples");
  }
  if (options.low_percentile >= options.high_percentile) {
    return InvalidArgument("low percentile must be below high percentile");
  }
  return Status::Ok();
}

}  // namespace

Result<cv::Mat> NormalizeToUnit(const cv::Mat& image, const NormalizeOptions& options) {
  SEGHUB_RETURN_IF_ERROR(CheckNormalizable(image, options));
  const int depth = image.depth();
  const bool use_percentiles = options.mode == NormalizeMode::kPercentile ||
                               (options.mode == NormalizeMode::kAuto && depth != CV_8U);
  if (use_percentiles) {
    SEGHUB_ASSIGN_OR_RETURN(const std::vector<double> range,
                            Percentiles(image, {options.low_percentile, options.high_percentile}));
    if (range[1] > range[0]) return ScaleAndClamp(image, range[0], range[1]);
  }
  if (depth == CV_8U) {
    // float32(p) / 255.0f exactly as torchvision ToTensor; convertTo's multiply by 1/255 can
    // differ in the last bit, which would break bit-exact agreement with the Hub's tensors.
    cv::Mat out(image.size(), CV_MAKETYPE(CV_32F, image.channels()));
    const int n = image.cols * image.channels();
    for (int y = 0; y < image.rows; ++y) {
      const uint8_t* in = image.ptr<uint8_t>(y);
      float* o = out.ptr<float>(y);
      for (int i = 0; i < n; ++i) o[i] = static_cast<float>(in[i]) / 255.0f;
    }
    return out;
  }
  return ScaleAndClamp(image, 0.0, TypeMaximum(depth));
}

Result<cv::Mat> ToChannels(const cv::Mat& image, int channels) {
  if (image.empty()) return InvalidArgument("cannot convert channels of an empty image");
  if (image.channels() == channels) return image;
  cv::Mat out;
  try {
    if (image.channels() == 1 && channels == 3) {
      cv::cvtColor(image, out, cv::COLOR_GRAY2RGB);
    } else if (image.channels() == 3 && channels == 1) {
      cv::cvtColor(image, out, cv::COLOR_RGB2GRAY);
    } else {
      return InvalidArgument("cannot convert " + std::to_string(image.channels()) +
                             " channel(s) to " + std::to_string(channels));
    }
  } catch (const cv::Exception& e) {
    return Internal(std::string("channel conversion failed: ") + e.what());
  }
  return out;
}

Result<UnitMapping> ComputeUnitMapping(const cv::Mat& image, const NormalizeOptions& options,
                                       bool auto_invert) {
  SEGHUB_RETURN_IF_ERROR(CheckNormalizable(image, options));
  const int depth = image.depth();
  UnitMapping m;
  const bool use_percentiles = options.mode == NormalizeMode::kPercentile ||
                               (options.mode == NormalizeMode::kAuto && depth != CV_8U);
  // Percentile ranges clip outliers; float data may lie outside [0, type maximum].
  m.clamp = use_percentiles || depth == CV_32F;
  double low = 0.0, high = TypeMaximum(depth);
  if (use_percentiles || auto_invert) {
    // One pass over the pixels for the range and, when inverting may be needed, the median.
    SEGHUB_ASSIGN_OR_RETURN(const std::vector<double> q,
                            Percentiles(image, {options.low_percentile, options.high_percentile,
                                                auto_invert ? 50.0 : options.low_percentile}));
    const double lo = q[0], hi = q[1], median = q[2];
    if (use_percentiles && hi > lo) {
      low = lo;
      high = hi;
    }
    if (auto_invert && hi > lo) {
      if (median > 0.5 * (lo + hi)) {
        m.low = high;
        m.scale = -1.0 / (high - low);
        return m;
      }
    }
  }
  m.low = low;
  m.scale = 1.0 / (high - low);
  return m;
}

cv::Mat ApplyUnitMapping(const cv::Mat& image, const UnitMapping& m) {
  cv::Mat unit;
  image.convertTo(unit, CV_MAKETYPE(CV_32F, image.channels()), m.scale, -m.low * m.scale);
  if (m.clamp) {
    cv::min(unit, 1.0, unit);
    cv::max(unit, 0.0, unit);
  }
  return unit;
}

}  // namespace seghub::imaging
