// Pre- and post-processing around the PD segmentation network (a 1-D U-Net run by the engine).
//
// Flow for one signal, matching the original PD Inference API:
//   raw -> Preprocess (clip, zero-phase Butterworth high-pass, normalise by max |x|)
//       -> MakeWindows / ExtractWindowBatch (overlapping windows, the network's input)
//       -> model (elsewhere) -> Stitch (average overlapping window outputs to one probability
//          per sample) -> FindRegions (threshold, drop start-up artefacts and weak regions)
//       -> SignalResultToJson (regions, statistics, min/max-downsampled series for plotting).
// AnalyseSignal() runs the whole flow with the model passed in as a callback.
#ifndef SEGHUB_SIGNALS_PD_PIPELINE_H_
#define SEGHUB_SIGNALS_PD_PIPELINE_H_

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "common/status.h"
#include "signals/filter.h"

namespace seghub::signals {

struct PreprocessOptions {
  double clip = 800000.0;  // clip to [-clip, clip] before filtering; <= 0 disables
  int filter_order = 3;
  double cutoff = 0.4;  // fraction of Nyquist
  FilterType filter_type = FilterType::kHighPass;
};

// Clip -> filtfilt(butter(order, cutoff, type)) -> divide by max |x|. An all-zero filtered signal
// is returned as zeros (nothing to normalise). Signals too short for filtfilt's padding (<= 12
// samples for order 3) and non-finite values give kInvalidArgument.
Result<std::vector<double>> Preprocess(std::span<const double> signal,
                                       const PreprocessOptions& options = {});

// Start offsets of windows of `window` samples with fractional `overlap` in [0, 1): stride is
// window * (1 - overlap) (at least 1). The last window is aligned to the end of the signal so
// every sample is covered. A signal of n <= window samples gets the single window {0}; the
// samples past n are zero-padded by ExtractWindowBatch and ignored by Stitch.
Result<std::vector<size_t>> MakeWindows(size_t n, size_t window = 1024, double overlap = 0.5);

// Row-major (starts.size(), window) float batch for the network, zero-padded past the end.
std::vector<float> ExtractWindowBatch(std::span<const double> signal,
                                      std::span<const size_t> starts, size_t window);

// Per-sample average over all windows covering it. Each output must have the same length (the
// window); positions past n are ignored. Uncovered samples or mismatched sizes give an error.
Result<std::vector<double>> Stitch(const std::vector<std::vector<double>>& window_outputs,
                                   std::span<const size_t> starts, size_t n);

struct RegionOptions {
  double probability_threshold = 0.5;  // sample is PD when prob > threshold
  // Regions starting before this sample are dropped: the original service discards regions at
  // index 0, which come from the filter's start-up transient. 0 keeps everything.
  size_t min_start = 1;
  double min_peak_amplitude = 0.2;  // drop regions whose max |filtered| is below this
  // Runs separated by at most this many samples at or under the threshold join into one region
  // (before the filters), so a pulse whose probability dips in its tail stays one region.
  size_t merge_gap = 0;
  size_t min_length = 1;  // drop regions shorter than this many samples
  // > 0: drop regions whose peak |filtered| is below min_snr x NoiseSigma(filtered). The max-
  // relative min_peak_amplitude cannot tell when the signal's maximum is itself noise (a signal
  // whose only pulses vanish under the high-pass); this compares with the noise instead.
  double min_snr = 0.0;
  double sample_rate_hz = 0.0;  // > 0 fills the *_s fields
};

struct Region {
  size_t start = 0;  // first sample
  size_t end = 0;    // one past the last sample
  size_t length = 0;
  size_t peak_index = 0;  // argmax |filtered| within the region
  double peak_amplitude = 0.0;
  double max_probability = 0.0;
  // peak_amplitude / NoiseSigma(filtered); +infinity on a noise-free signal (sigma 0).
  double snr = 0.0;
  double start_s = 0.0;  // only when a sample rate is given
  double duration_s = 0.0;
};

// Robust noise level of a (filtered, zero-mean) signal: 1.4826 x the median absolute deviation,
// which equals the standard deviation for Gaussian noise and ignores pulses occupying a small
// fraction of the samples. 0 for an empty or constant signal. O(n), one copy of x.
double NoiseSigma(std::span<const double> x);

// Contiguous runs of prob > threshold, joined across gaps of up to merge_gap samples, filtered
// as described in RegionOptions. `prob` and `filtered` must have the same length.
Result<std::vector<Region>> FindRegions(std::span<const double> prob,
                                        std::span<const double> filtered,
                                        const RegionOptions& options = {});
// The same with NoiseSigma(filtered) already computed (callers that also report it).
Result<std::vector<Region>> FindRegions(std::span<const double> prob,
                                        std::span<const double> filtered, double noise_sigma,
                                        const RegionOptions& options);

struct SignalStats {
  double max_abs = 0.0;
  double mean_abs = 0.0;
  double std = 0.0;  // population standard deviation (numpy's default ddof = 0)
};
SignalStats ComputeStats(std::span<const double> x);

// A series reduced for plotting: sample indices (ascending) and their values.
struct Downsampled {
  std::vector<size_t> index;
  std::vector<double> value;
};
// Keeps at most `max_points` points (>= 2): the series itself when it is short enough, else the
// min and the max of each of max_points / 2 buckets in time order, so that narrow PD spikes that
// plain decimation would skip stay visible.
Result<Downsampled> Downsample(std::span<const double> series, size_t max_points);

struct SignalResult {
  size_t signal_index = 0;
  double sample_rate_hz = 0.0;
  std::vector<double> raw;
  std::vector<double> filtered;
  std::vector<double> probability;
  std::vector<Region> regions;
  double noise_sigma = 0.0;  // NoiseSigma(filtered), the regions' snr denominator
};

// {"signal_index", "num_samples", "sample_rate_hz", "regions": [...], "stats": {"raw": {...},
//  "filtered": {..., "noise_sigma"}}, "series": {"raw"|"filtered"|"probability": {"index": [],
//  "value": []}}}.
Result<nlohmann::json> SignalResultToJson(const SignalResult& result, size_t max_points = 2000);

// The network: takes a (num_windows, window) float batch and returns one probability per input
// sample, in the same layout.
using WindowModel = std::function<Result<std::vector<float>>(const std::vector<float>& batch,
                                                             size_t num_windows, size_t window)>;

struct PipelineOptions {
  PreprocessOptions preprocess;
  RegionOptions regions;
  size_t window = 1024;
  double overlap = 0.5;
};

// Preprocess -> windows -> model -> Stitch -> FindRegions for one raw signal.
Result<SignalResult> AnalyseSignal(std::span<const double> raw, const WindowModel& model,
                                   const PipelineOptions& options = {});

}  // namespace seghub::signals

#endif  // SEGHUB_SIGNALS_PD_PIPELINE_H_
