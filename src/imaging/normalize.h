// Intensity normalisation to float [0,1] and channel-count adaptation.
//
// The Hub squashes 16-bit data to 8 bits (PIL convert('RGB') clips at 255). seghub keeps the full
// range instead: 16-bit and float images are mapped to [0,1] by robust percentiles (1st..99.8th by
// default, as CSBDeep/StarDist normalise microscopy), computed jointly over all channels so colour
// balance survives. 8-bit images default to v/255 in float32, bit-identical to the Hub's ToTensor.
// Pure functions; thread-safe.
#ifndef SEGHUB_IMAGING_NORMALIZE_H_
#define SEGHUB_IMAGING_NORMALIZE_H_

#include <opencv2/core.hpp>
#include <vector>

#include "common/status.h"

namespace seghub::imaging {

enum class NormalizeMode {
  kAuto,        // 8-bit: v/255; 16-bit and float: percentiles
  kPercentile,  // percentiles for every depth
  kFullRange,   // v / type maximum (255 or 65535); float is clamped to [0,1]
};

struct NormalizeOptions {
  NormalizeMode mode = NormalizeMode::kAuto;
  double low_percentile = 1.0;
  double high_percentile = 99.8;
};

// How source values map to [0,1]: unit = (v - low) * scale, clamped when `clamp` is set. Used
// where an image is cut into pieces (tiles, training crops) so every piece shares one scale.
struct UnitMapping {
  double low = 0.0;
  double scale = 1.0 / 255.0;
  bool clamp = false;
};

// The mapping NormalizeToUnit would apply to `image` (kAuto on 8-bit: v/255, unclamped).
// `auto_invert`: when the median lies above the midpoint of the low..high percentiles — a bright
// background, as in bright-field or H&E photos — the mapping is flipped (unit = 1 at `low`), so
// that stained, dark objects come out bright like fluorescence. Grey-level images only make
// sense here; colour is judged on all channels jointly.
Result<UnitMapping> ComputeUnitMapping(const cv::Mat& image, const NormalizeOptions& options,
                                       bool auto_invert);

// Applies `m` to every sample: CV_32FC(n), same size.
cv::Mat ApplyUnitMapping(const cv::Mat& image, const UnitMapping& m);

// Percentile of all samples (all channels), NumPy's default linear interpolation between ranks.
// `image` is CV_8U, CV_16U or CV_32F with any channel count; p in [0,100].
Result<double> Percentile(const cv::Mat& image, double p);
// Several percentiles from one pass over the samples (same definition), in the order of `ps`.
Result<std::vector<double>> Percentiles(const cv::Mat& image, const std::vector<double>& ps);

// Returns CV_32FC(n) with values in [0,1]. A flat image (high == low percentile) falls back to
// kFullRange so a blank frame stays blank instead of dividing by zero.
Result<cv::Mat> NormalizeToUnit(const cv::Mat& image, const NormalizeOptions& options = {});

// 1 -> 3 replicates grey (as PIL convert('RGB')); 3 -> 1 uses ITU-R 601 luma (as PIL 'L');
// same count -> unchanged. RGB order in, RGB order out. Any depth.
Result<cv::Mat> ToChannels(const cv::Mat& image, int channels);

}  // namespace seghub::imaging

#endif  // SEGHUB_IMAGING_NORMALIZE_H_
