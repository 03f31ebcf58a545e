#include "signals/pd_pipeline.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace seghub::signals {
namespace {

std::string Num(size_t v) { return std::to_string(v); }

nlohmann::json StatsJson(const SignalStats& s) {
  return {{"max_abs", s.max_abs}, {"mean_abs", s.mean_abs}, {"std", s.std}};
}

// JSON has no infinity: a noise-free signal's SNR is written as null.
nlohmann::json FiniteOrNull(double v) { return std::isfinite(v) ? nlohmann::json(v) : nullptr; }

nlohmann::json RegionJson(const Region& r, bool with_time) {
  nlohmann::json j = {{"start", r.start},
                      {"end", r.end},
                      {"length", r.length},
                      {"peak_index", r.peak_index},
                      {"peak_amplitude", r.peak_amplitude},
                      {"max_probability", r.max_probability},
                      {"snr", FiniteOrNull(r.snr)}};
  if (with_time) {
    j["start_s"] = r.start_s;
    j["duration_s"] = r.duration_s;
  }
  return j;
}

// Builds a Region for samples [start, end) and decides whether it survives the filters.
bool MakeRegion(std::span<const double> prob, std::span<const double> filtered, size_t start,
                size_t end, double noise_sigma, const RegionOptions& options, Region* region) {
  if (start < options.min_start || end - start < options.min_length) return false;
  Region r;
  r.start = start;
  r.end = end;
  r.length = end - start;
  for (size_t i = start; i < end; ++i) {
    const double a = std::abs(filtered[i]);
    if (a > r.peak_amplitude || i == start) {
      r.peak_amplitude = a;
      r.peak_index = i;
    }
    r.max_probability = std::max(r.max_probability, prob[i]);
  }
  if (r.peak_amplitude < options.min_peak_amplitude) return false;
  r.snr =
      noise_sigma > 0.0 ? r.peak_amplitude / noise_sigma : std::numeric_limits<double>::infinity();
  if (r.snr < options.min_snr) return false;
  if (options.sample_rate_hz > 0.0) {
    r.start_s = static_cast<double>(start) / options.sample_rate_hz;
    r.duration_s = static_cast<double>(r.length) / options.sample_rate_hz;
  }
  *region = r;
  return true;
}

}  // namespace

Result<std::vector<double>> Preprocess(std::span<const double> signal,
                                       const PreprocessOptions& options) {
  std::vector<double> x(signal.begin(), signal.end());
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      return InvalidArgument("non-finite value at sample " + Num(i) + " of the signal");
    }
    if (options.clip > 0.0) x[i] = std::clamp(x[i], -options.clip, options.clip);
  }
  SEGHUB_ASSIGN_OR_RETURN(FilterCoefficients coeffs,
                          Butter(options.filter_order, options.cutoff, options.filter_type));
  SEGHUB_ASSIGN_OR_RETURN(std::vector<double> y, FiltFilt(coeffs, x));
  double peak = 0.0;
  for (double v : y) peak = std::max(peak, std::abs(v));
  if (peak > 0.0) {
    for (double& v : y) v /= peak;
  }
  return y;
}

Result<std::vector<size_t>> MakeWindows(size_t n, size_t window, double overlap) {
  if (n == 0) return InvalidArgument("cannot window an empty signal");
  if (window == 0) return InvalidArgument("window length must be positive");
  if (!(overlap >= 0.0 && overlap < 1.0)) {
    return InvalidArgument("window overlap must be in [0, 1), got " + std::to_string(overlap));
  }
  if (n <= window) return std::vector<size_t>{0};
  const auto stride = std::max<size_t>(
      1, static_cast<size_t>(std::floor(static_cast<double>(window) * (1.0 - overlap))));
  std::vector<size_t> starts;
  for (size_t s = 0; s + window < n; s += stride) starts.push_back(s);
  starts.push_back(n - window);  // end-aligned, so the tail is covered without padding
  return starts;
}

std::vector<float> ExtractWindowBatch(std::span<const double> signal,
                                      std::span<const size_t> starts, size_t window) {
  std::vector<float> batch(starts.size() * window, 0.0f);
  for (size_t w = 0; w < starts.size(); ++w) {
    for (size_t i = 0; i < window && starts[w] + i < signal.size(); ++i) {
      batch[w * window + i] = static_cast<float>(signal[starts[w] + i]);
    }
  }
  return batch;
}

Result<std::vector<double>> Stitch(const std::vector<std::vector<double>>& window_outputs,
                                   std::span<const size_t> starts, size_t n) {
  if (window_outputs.size() != starts.size()) {
    return InvalidArgument("got " + Num(window_outputs.size()) + " window outputs for " +
                           Num(starts.size()) + " window starts");
  }
  std::vector<double> sum(n, 0.0);
  std::vector<unsigned> count(n, 0);
  for (size_t w = 0; w < starts.size(); ++w) {
    if (window_outputs[w].size() != window_outputs[0].size()) {
      return InvalidArgument("window output " + Num(w) + " has " + Num(window_outputs[w].size()) +
                             " values, expected " + Num(window_outputs[0].size()));
    }
    if (starts[w] >= n) return InvalidArgument("window start " + Num(starts[w]) + " is past n");
    const size_t end = std::min(n, starts[w] + window_outputs[w].size());
    for (size_t i = starts[w]; i < end; ++i) {
      sum[i] += window_outputs[w][i - starts[w]];
      ++count[i];
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (count[i] == 0) return InvalidArgument("sample " + Num(i) + " is covered by no window");
    sum[i] /= count[i];
  }
  return sum;
}

double NoiseSigma(std::span<const double> x) {
  if (x.empty()) return 0.0;
  std::vector<double> v(x.begin(), x.end());
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  const double median = *mid;
  for (double& e : v) e = std::abs(e - median);
  std::nth_element(v.begin(), mid, v.end());
  constexpr double kMadToSigma = 1.482602218505602;  // 1 / Phi^-1(3/4)
  return kMadToSigma * *mid;
}

Result<std::vector<Region>> FindRegions(std::span<const double> prob,
                                        std::span<const double> filtered,
                                        const RegionOptions& options) {
  return FindRegions(prob, filtered, NoiseSigma(filtered), options);
}

Result<std::vector<Region>> FindRegions(std::span<const double> prob,
                                        std::span<const double> filtered, double noise_sigma,
                                        const RegionOptions& options) {
  if (prob.size() != filtered.size()) {
    return InvalidArgument("probability has " + Num(prob.size()) + " samples but the signal has " +
                           Num(filtered.size()));
  }
  std::vector<Region> regions;
  size_t i = 0;
  while (i < prob.size()) {
    if (!(prob[i] > options.probability_threshold)) {
      ++i;
      continue;
    }
    const size_t start = i;
    const auto above = [&](size_t k) { return prob[k] > options.probability_threshold; };
    while (i < prob.size() && above(i)) ++i;
    for (;;) {  // join the next run when the gap to it is short enough
      size_t next = i;
      while (next < prob.size() && next - i <= options.merge_gap && !above(next)) ++next;
      if (next >= prob.size() || next - i > options.merge_gap || next == i) break;
      i = next;
      while (i < prob.size() && above(i)) ++i;
    }
    Region r;
    if (MakeRegion(prob, filtered, start, i, noise_sigma, options, &r)) regions.push_back(r);
  }
  return regions;
}

SignalStats ComputeStats(std::span<const double> x) {
  SignalStats s;
  if (x.empty()) return s;
  double sum = 0.0;
  double sum_abs = 0.0;
  for (double v : x) {
    s.max_abs = std::max(s.max_abs, std::abs(v));
    sum_abs += std::abs(v);
    sum += v;
  }
  const double n = static_cast<double>(x.size());
  const double mean = sum / n;
  double var = 0.0;  // two-pass: mean first, so large offsets (the 50 Hz sine) do not cancel
  for (double v : x) var += (v - mean) * (v - mean);
  s.mean_abs = sum_abs / n;
  s.std = std::sqrt(var / n);
  return s;
}

Result<Downsampled> Downsample(std::span<const double> series, size_t max_points) {
  if (max_points < 2) return InvalidArgument("downsampling needs max_points >= 2");
  Downsampled out;
  const size_t n = series.size();
  if (n <= max_points) {
    for (size_t i = 0; i < n; ++i) {
      out.index.push_back(i);
      out.value.push_back(series[i]);
    }
    return out;
  }
  const size_t buckets = max_points / 2;
  for (size_t b = 0; b < buckets; ++b) {
    const size_t lo = b * n / buckets;
    const size_t hi = (b + 1) * n / buckets;
    const auto [mn, mx] = std::minmax_element(series.begin() + lo, series.begin() + hi);
    size_t i0 = static_cast<size_t>(mn - series.begin());
    size_t i1 = static_cast<size_t>(mx - series.begin());
    if (i0 > i1) std::swap(i0, i1);
    out.index.push_back(i0);
    out.value.push_back(series[i0]);
    if (i1 != i0) {
      out.index.push_back(i1);
      out.value.push_back(series[i1]);
    }
  }
  return out;
}

Result<nlohmann::json> SignalResultToJson(const SignalResult& result, size_t max_points) {
  const bool with_time = result.sample_rate_hz > 0.0;
  nlohmann::json regions = nlohmann::json::array();
  for (const Region& r : result.regions) regions.push_back(RegionJson(r, with_time));
  nlohmann::json series = nlohmann::json::object();
  const std::pair<const char*, const std::vector<double>*> named[] = {
      {"raw", &result.raw}, {"filtered", &result.filtered}, {"probability", &result.probability}};
  for (const auto& [name, values] : named) {
    SEGHUB_ASSIGN_OR_RETURN(Downsampled d, Downsample(*values, max_points));
    series[name] = {{"index", d.index}, {"value", d.value}};
  }
  nlohmann::json j = {{"signal_index", result.signal_index},
                      {"num_samples", result.raw.size()},
                      {"regions", std::move(regions)},
                      {"num_regions", result.regions.size()},
                      {"stats",
                       {{"raw", StatsJson(ComputeStats(result.raw))},
                        {"filtered", StatsJson(ComputeStats(result.filtered))}}},
                      {"series", std::move(series)}};
  j["stats"]["filtered"]["noise_sigma"] = result.noise_sigma;
  if (with_time) j["sample_rate_hz"] = result.sample_rate_hz;
  return j;
}

Result<SignalResult> AnalyseSignal(std::span<const double> raw, const WindowModel& model,
                                   const PipelineOptions& options) {
  SignalResult result;
  result.sample_rate_hz = options.regions.sample_rate_hz;
  result.raw.assign(raw.begin(), raw.end());
  SEGHUB_ASSIGN_OR_RETURN(result.filtered, Preprocess(raw, options.preprocess));
  const size_t n = raw.size();
  SEGHUB_ASSIGN_OR_RETURN(std::vector<size_t> starts,
                          MakeWindows(n, options.window, options.overlap));
  const std::vector<float> batch = ExtractWindowBatch(result.filtered, starts, options.window);
  SEGHUB_ASSIGN_OR_RETURN(std::vector<float> out, model(batch, starts.size(), options.window));
  if (out.size() != batch.size()) {
    return Internal("model returned " + Num(out.size()) + " values for a batch of " +
                    Num(batch.size()));
  }
  std::vector<std::vector<double>> windows(starts.size());
  for (size_t w = 0; w < starts.size(); ++w) {
    windows[w].assign(out.begin() + w * options.window, out.begin() + (w + 1) * options.window);
  }
  SEGHUB_ASSIGN_OR_RETURN(result.probability, Stitch(windows, starts, n));
  result.noise_sigma = NoiseSigma(result.filtered);
  SEGHUB_ASSIGN_OR_RETURN(result.regions, FindRegions(result.probability, result.filtered,
                                                      result.noise_sigma, options.regions));
  return result;
}

}  // namespace seghub::signals
