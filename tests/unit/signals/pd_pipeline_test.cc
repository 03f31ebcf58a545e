#include "signals/pd_pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "signals/signal_io.h"

namespace seghub::signals {
namespace {

TEST(MakeWindowsTest, CoversEverySampleAndStaysInside) {
  for (size_t window : {size_t{1}, size_t{7}, size_t{1024}}) {
    for (double overlap : {0.0, 0.5, 0.75, 0.9}) {
      for (size_t n : {size_t{1}, size_t{6}, size_t{1023}, size_t{1024}, size_t{1025}, size_t{2048},
                       size_t{5000}, size_t{7920}}) {
        auto starts = MakeWindows(n, window, overlap);
        ASSERT_TRUE(starts.ok()) << starts.status().ToString();
        std::vector<int> covered(n, 0);
        for (size_t k = 0; k < starts->size(); ++k) {
          const size_t s = (*starts)[k];
          if (k > 0) {
            EXPECT_GT(s, (*starts)[k - 1]);
          }
          if (n >= window) {
            EXPECT_LE(s + window, n);  // only short signals need padding
          }
          for (size_t i = s; i < std::min(n, s + window); ++i) covered[i] = 1;
        }
        for (size_t i = 0; i < n; ++i) ASSERT_TRUE(covered[i]) << n << " " << window << " " << i;
        if (n > window) {
          EXPECT_EQ(starts->back(), n - window);
        }
      }
    }
  }
}

TEST(MakeWindowsTest, StrideFollowsOverlapAndInvalidArgumentsFail) {
  auto starts = MakeWindows(4096, 1024, 0.5);
  ASSERT_TRUE(starts.ok());
  EXPECT_EQ(*starts, (std::vector<size_t>{0, 512, 1024, 1536, 2048, 2560, 3072}));
  EXPECT_FALSE(MakeWindows(0, 1024, 0.5).ok());
  EXPECT_FALSE(MakeWindows(10, 0, 0.5).ok());
  EXPECT_FALSE(MakeWindows(10, 4, 1.0).ok());
  EXPECT_FALSE(MakeWindows(10, 4, -0.1).ok());
}

TEST(ExtractWindowBatchTest, CopiesWindowsAndZeroPads) {
  std::vector<double> x = {1, 2, 3, 4, 5};
  const std::vector<size_t> starts = {0, 3};
  auto batch = ExtractWindowBatch(x, starts, 4);
  EXPECT_EQ(batch, (std::vector<float>{1, 2, 3, 4, 4, 5, 0, 0}));
}

// Window w outputs g(w, global index); the stitched value must be the mean of g over the windows
// covering each sample, computed here directly.
TEST(StitchTest, AveragesOverlapsLikeDirectComputation) {
  const size_t n = 5000, window = 1024;
  auto starts = MakeWindows(n, window, 0.5);
  ASSERT_TRUE(starts.ok());
  auto g = [](size_t w, size_t i) { return 0.001 * static_cast<double>(i) + 10.0 * w; };
  std::vector<std::vector<double>> outputs(starts->size(), std::vector<double>(window));
  for (size_t w = 0; w < starts->size(); ++w) {
    for (size_t j = 0; j < window; ++j) outputs[w][j] = g(w, (*starts)[w] + j);
  }
  auto stitched = Stitch(outputs, *starts, n);
  ASSERT_TRUE(stitched.ok()) << stitched.status().ToString();
  for (size_t i = 0; i < n; ++i) {
    double sum = 0.0;
    int count = 0;
    for (size_t w = 0; w < starts->size(); ++w) {
      if (i >= (*starts)[w] && i < (*starts)[w] + window) {
        sum += g(w, i);
        ++count;
      }
    }
    ASSERT_NEAR((*stitched)[i], sum / count, 1e-12) << i;
  }
}

TEST(StitchTest, ConstantAndLinearOutputsAreReproduced) {
  const size_t n = 3000, window = 1024;
  auto starts = MakeWindows(n, window, 0.75);
  ASSERT_TRUE(starts.ok());
  std::vector<std::vector<double>> constant(starts->size(), std::vector<double>(window, 0.3));
  std::vector<std::vector<double>> linear(starts->size(), std::vector<double>(window));
  for (size_t w = 0; w < starts->size(); ++w) {
    for (size_t j = 0; j < window; ++j) linear[w][j] = 2.0 * ((*starts)[w] + j) - 7.0;
  }
  auto c = Stitch(constant, *starts, n);
  auto l = Stitch(linear, *starts, n);
  ASSERT_TRUE(c.ok() && l.ok());
  for (size_t i = 0; i < n; ++i) {
    EXPECT_NEAR((*c)[i], 0.3, 1e-15);
    EXPECT_NEAR((*l)[i], 2.0 * i - 7.0, 1e-9);
  }
}

TEST(StitchTest, PaddedShortSignalAndErrors) {
  auto s = Stitch({std::vector<double>(8, 0.25)}, std::vector<size_t>{0}, 5);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, std::vector<double>(5, 0.25));
  EXPECT_EQ(Stitch({std::vector<double>(4)}, std::vector<size_t>{0, 2}, 6).status().code(),
            StatusCode::kInvalidArgument);
  auto gap =
      Stitch({std::vector<double>(4), std::vector<double>(4)}, std::vector<size_t>{0, 6}, 10);
  ASSERT_FALSE(gap.ok());
  EXPECT_NE(gap.status().message().find("sample 4"), std::string::npos);
  EXPECT_FALSE(
      Stitch({std::vector<double>(4), std::vector<double>(3)}, std::vector<size_t>{0, 2}, 6).ok());
}

std::vector<double> Probabilities(size_t n, const std::vector<std::pair<size_t, size_t>>& on) {
  std::vector<double> p(n, 0.1);
  for (auto [a, b] : on) std::fill(p.begin() + a, p.begin() + b, 0.9);
  return p;
}

TEST(FindRegionsTest, RegionAtStartIsDroppedUnlessConfigured) {
  const auto prob = Probabilities(100, {{0, 5}, {20, 30}});
  const std::vector<double> filtered(100, 0.5);
  auto r = FindRegions(prob, filtered);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].start, 20u);
  EXPECT_EQ((*r)[0].end, 30u);
  EXPECT_EQ((*r)[0].length, 10u);
  auto all = FindRegions(prob, filtered, {.min_start = 0});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].start, 0u);
  EXPECT_EQ((*all)[0].end, 5u);
}

TEST(FindRegionsTest, RegionAtEndAndAdjacentRuns) {
  // [40, 50) and [51, 60) are separate (one sample below threshold between them); the last
  // region runs to the final sample.
  const auto prob = Probabilities(100, {{40, 50}, {51, 60}, {95, 100}});
  const std::vector<double> filtered(100, 1.0);
  auto r = FindRegions(prob, filtered);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[1].start, 51u);
  EXPECT_EQ((*r)[2].start, 95u);
  EXPECT_EQ((*r)[2].end, 100u);
}

TEST(FindRegionsTest, MergeGapJoinsRunsAndMinLengthDropsShortOnes) {
  // Gaps of 1 and 3 samples, then a 2-sample run 10 samples away.
  const auto prob = Probabilities(100, {{40, 50}, {51, 60}, {63, 70}, {80, 82}});
  const std::vector<double> filtered(100, 1.0);
  auto joined = FindRegions(prob, filtered, {.merge_gap = 3});
  ASSERT_TRUE(joined.ok());
  ASSERT_EQ(joined->size(), 2u);
  EXPECT_EQ((*joined)[0].start, 40u);
  EXPECT_EQ((*joined)[0].end, 70u);
  EXPECT_EQ((*joined)[0].length, 30u);
  EXPECT_EQ((*joined)[1].start, 80u);
  auto short_gap = FindRegions(prob, filtered, {.merge_gap = 2});  // the 3-sample gap stays
  ASSERT_TRUE(short_gap.ok());
  ASSERT_EQ(short_gap->size(), 3u);
  EXPECT_EQ((*short_gap)[0].end, 60u);
  auto long_only = FindRegions(prob, filtered, {.merge_gap = 3, .min_length = 3});
  ASSERT_TRUE(long_only.ok());
  ASSERT_EQ(long_only->size(), 1u);  // [80, 82) is 2 samples long
  EXPECT_EQ((*long_only)[0].start, 40u);
  // A gap reaching the end of the signal joins nothing.
  const auto tail = Probabilities(20, {{5, 10}});
  auto t = FindRegions(tail, std::vector<double>(20, 1.0), {.merge_gap = 50});
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 1u);
  EXPECT_EQ((*t)[0].end, 10u);
}

TEST(FindRegionsTest, ThresholdsAndPeak) {
  auto prob = Probabilities(60, {{10, 20}, {30, 40}, {45, 50}});
  prob[12] = 0.5;  // not > 0.5: splits [10, 20) into [10, 12) and [13, 20)
  std::vector<double> filtered(60, 0.0);
  filtered[11] = -0.2;  // exactly the minimum peak: kept, |.| counts
  filtered[15] = 0.1999;
  filtered[35] = 0.7;
  filtered[33] = -0.9;
  filtered[47] = 0.3;
  auto r = FindRegions(prob, filtered, {.sample_rate_hz = 1000.0});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].start, 10u);
  EXPECT_EQ((*r)[0].end, 12u);
  EXPECT_DOUBLE_EQ((*r)[0].peak_amplitude, 0.2);
  EXPECT_EQ((*r)[1].start, 30u);
  EXPECT_EQ((*r)[1].peak_index, 33u);
  EXPECT_DOUBLE_EQ((*r)[1].peak_amplitude, 0.9);
  EXPECT_DOUBLE_EQ((*r)[1].start_s, 0.030);
  EXPECT_DOUBLE_EQ((*r)[1].duration_s, 0.010);
  EXPECT_DOUBLE_EQ((*r)[1].max_probability, 0.9);
  auto strict = FindRegions(prob, filtered, {.probability_threshold = 0.95});
  ASSERT_TRUE(strict.ok());
  EXPECT_TRUE(strict->empty());
  auto loose = FindRegions(prob, filtered, {.min_peak_amplitude = 0.5});
  ASSERT_TRUE(loose.ok());
  ASSERT_EQ(loose->size(), 1u);
  EXPECT_EQ((*loose)[0].start, 30u);
  EXPECT_FALSE(FindRegions(prob, std::vector<double>(59, 0.0)).ok());
}

TEST(NoiseSigmaTest, GaussianSigmaIgnoringPulsesAndEdgeCases) {
  // Deterministic N(0, 2^2) noise (Box-Muller on a fixed LCG) with 1 % of the samples as pulses
  // of 50 sigma: the MAD estimate stays within a few percent of 2, the standard deviation not.
  std::vector<double> x(20000);
  uint64_t state = 12345;
  auto uniform = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (static_cast<double>(state >> 11) + 0.5) * 0x1.0p-53;
  };
  for (double& v : x) {
    v = 2.0 * std::sqrt(-2.0 * std::log(uniform())) * std::cos(2 * std::numbers::pi * uniform());
  }
  for (size_t i = 0; i < x.size(); i += 100) x[i] = 100.0;
  EXPECT_NEAR(NoiseSigma(x), 2.0, 0.08);
  EXPECT_GT(ComputeStats(x).std, 3.0);
  EXPECT_EQ(NoiseSigma(std::vector<double>{}), 0.0);
  EXPECT_EQ(NoiseSigma(std::vector<double>(50, 0.3)), 0.0);
  // An offset does not change it (deviation from the median, not from 0).
  for (double& v : x) v += 5.0;
  EXPECT_NEAR(NoiseSigma(x), 2.0, 0.08);
}

TEST(FindRegionsTest, MinSnrComparesThePeakWithTheNoise) {
  // Noise spread evenly over [-0.01, 0.01] (MAD 0.005, sigma ~0.0074), a region peaking at
  // ~135 sigma and one at ~4.
  const size_t n = 400;
  std::vector<double> filtered(n);
  for (size_t i = 0; i < n; ++i)
    filtered[i] = 0.01 * (static_cast<double>((i * 37) % 101) - 50) / 50;
  filtered[105] = 1.0;
  filtered[305] = 0.03;
  const double sigma = NoiseSigma(filtered);
  ASSERT_NEAR(sigma, 1.4826 * 0.005, 5e-4);
  const auto prob = Probabilities(n, {{100, 110}, {300, 310}});
  auto all = FindRegions(prob, filtered, {.min_peak_amplitude = 0.0});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_DOUBLE_EQ((*all)[0].snr, 1.0 / sigma);
  EXPECT_DOUBLE_EQ((*all)[1].snr, 0.03 / sigma);
  auto strong = FindRegions(prob, filtered, {.min_peak_amplitude = 0.0, .min_snr = 5.0});
  ASSERT_TRUE(strong.ok());
  ASSERT_EQ(strong->size(), 1u);
  EXPECT_EQ((*strong)[0].start, 100u);
  // A noise-free signal: infinite SNR, nothing is dropped by the noise filter.
  std::vector<double> clean(n, 0.0);
  clean[105] = 1.0;
  auto c = FindRegions(prob, clean, {.min_peak_amplitude = 0.0, .min_snr = 1000.0});
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->size(), 2u);
  EXPECT_TRUE(std::isinf((*c)[0].snr));
}

TEST(StatsTest, MatchesClosedFormForASine) {
  const double amplitude = 3.0;
  const size_t period = 1000, n = 5 * period;
  std::vector<double> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = amplitude * std::sin(2 * std::numbers::pi * i / period);
  const SignalStats s = ComputeStats(x);
  EXPECT_NEAR(s.max_abs, amplitude, 1e-9);
  EXPECT_NEAR(s.mean_abs, 2 * amplitude / std::numbers::pi, 1e-4);
  EXPECT_NEAR(s.std, amplitude / std::sqrt(2.0), 1e-9);
  const SignalStats t = ComputeStats(std::vector<double>{1e9 + 3, 1e9 - 3});
  EXPECT_DOUBLE_EQ(t.std, 3.0);  // no cancellation with a large offset
}

TEST(DownsampleTest, KeepsSpikesAndBucketExtremes) {
  const size_t n = 100000, max_points = 1000;
  std::vector<double> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = 0.01 * std::sin(0.001 * i);
  x[54321] = 5.0;
  x[777] = -4.0;
  auto d = Downsample(x, max_points);
  ASSERT_TRUE(d.ok());
  ASSERT_LE(d->index.size(), max_points);
  ASSERT_EQ(d->index.size(), d->value.size());
  EXPECT_TRUE(std::is_sorted(d->index.begin(), d->index.end()));
  for (size_t k = 0; k < d->index.size(); ++k) EXPECT_EQ(d->value[k], x[d->index[k]]);
  EXPECT_NE(std::find(d->index.begin(), d->index.end(), 54321u), d->index.end());
  EXPECT_NE(std::find(d->index.begin(), d->index.end(), 777u), d->index.end());
  const double kept_max = *std::max_element(d->value.begin(), d->value.end());
  const double kept_min = *std::min_element(d->value.begin(), d->value.end());
  EXPECT_EQ(kept_max, 5.0);
  EXPECT_EQ(kept_min, -4.0);
}

TEST(DownsampleTest, ShortSeriesUnchangedAndBadLimit) {
  const std::vector<double> x = {3, 1, 2};
  auto d = Downsample(x, 3);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->value, x);
  EXPECT_EQ(d->index, (std::vector<size_t>{0, 1, 2}));
  EXPECT_FALSE(Downsample(x, 1).ok());
}

TEST(PreprocessTest, ClipsFiltersAndNormalises) {
  const size_t n = 2000;
  std::vector<double> x(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = 1e6 * std::sin(2 * std::numbers::pi * i / 1500.0) + 5e3 * std::sin(2.7 * i);
  }
  auto y = Preprocess(x);
  ASSERT_TRUE(y.ok());
  // Clipping happens before filtering: same as pre-clipped input with clipping disabled.
  std::vector<double> clipped(x);
  for (double& v : clipped) v = std::clamp(v, -8e5, 8e5);
  auto y_clipped = Preprocess(clipped, {.clip = 0.0});
  auto y_unclipped = Preprocess(x, {.clip = 0.0});
  ASSERT_TRUE(y_clipped.ok() && y_unclipped.ok());
  double max_abs = 0.0, diff_clipped = 0.0, diff_unclipped = 0.0;
  for (size_t i = 0; i < n; ++i) {
    max_abs = std::max(max_abs, std::abs((*y)[i]));
    diff_clipped = std::max(diff_clipped, std::abs((*y)[i] - (*y_clipped)[i]));
    diff_unclipped = std::max(diff_unclipped, std::abs((*y)[i] - (*y_unclipped)[i]));
  }
  EXPECT_DOUBLE_EQ(max_abs, 1.0);
  EXPECT_EQ(diff_clipped, 0.0);
  EXPECT_GT(diff_unclipped, 1e-3);  // clipping corners leak high frequencies
}

TEST(PreprocessTest, ZeroSignalShortSignalAndNaN) {
  auto zeros = Preprocess(std::vector<double>(100, 0.0));
  ASSERT_TRUE(zeros.ok());
  for (double v : *zeros) EXPECT_EQ(v, 0.0);
  EXPECT_EQ(Preprocess(std::vector<double>(12, 1.0)).status().code(), StatusCode::kInvalidArgument);
  std::vector<double> bad(100, 1.0);
  bad[42] = std::numeric_limits<double>::infinity();
  auto r = Preprocess(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("sample 42"), std::string::npos);
}

TEST(PreprocessTest, RealPdDataNormalisesToOne) {
  auto signals = ReadSignalFile(std::string(SEGHUB_SHARED_DIR) + "/data/pd/test_dataa.npy");
  ASSERT_TRUE(signals.ok()) << signals.status().ToString();
  ASSERT_EQ(signals->size(), 7u);
  for (const auto& raw : *signals) {
    ASSERT_EQ(raw.size(), 7920u);
    auto y = Preprocess(raw);
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    const SignalStats raw_stats = ComputeStats(raw);
    const SignalStats s = ComputeStats(*y);
    EXPECT_DOUBLE_EQ(s.max_abs, 1.0);
    // The high-pass removes the dominant mains sine: the filtered signal is spiky (peak far
    // above its spread), unlike the sine-dominated raw signal (peak / std ~ sqrt(2)).
    EXPECT_LT(raw_stats.max_abs / raw_stats.std, 2.0);
    EXPECT_GT(s.max_abs / s.std, 4.0);
  }
}

// A stand-in model whose output is |input| clipped to [0, 1]: after stitching, the probability
// must equal |filtered| at every sample, whatever the window offsets were.
Result<std::vector<float>> AbsModel(const std::vector<float>& batch, size_t, size_t) {
  std::vector<float> out(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) out[i] = std::min(1.0f, std::abs(batch[i]));
  return out;
}

TEST(AnalyseSignalTest, EndToEndWithFakeModel) {
  const size_t n = 5000;
  std::vector<double> raw(n);
  for (size_t i = 0; i < n; ++i) raw[i] = 1e5 * std::sin(2 * std::numbers::pi * i / n);
  for (size_t p : {700, 2600, 4100}) {
    for (size_t k = 0; k < 20; ++k)
      raw[p + k] += 3e4 * std::exp(-static_cast<double>(k) / 4.0) * std::cos(2.5 * k);
  }
  PipelineOptions options;
  options.regions.sample_rate_hz = 1e6;
  auto result = AnalyseSignal(raw, AbsModel, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->probability.size(), n);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_NEAR(result->probability[i], std::min(1.0, std::abs(result->filtered[i])), 1e-6);
  }
  auto direct = FindRegions(result->probability, result->filtered, options.regions);
  ASSERT_TRUE(direct.ok());
  ASSERT_EQ(result->regions.size(), direct->size());
  ASSERT_GE(result->regions.size(), 3u);
  for (const Region& r : result->regions) {
    const bool near_pulse = (r.start >= 690 && r.end <= 730) ||
                            (r.start >= 2590 && r.end <= 2630) ||
                            (r.start >= 4090 && r.end <= 4130);
    EXPECT_TRUE(near_pulse) << r.start << "-" << r.end;
  }
  auto json = SignalResultToJson(*result, 500);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ((*json)["num_samples"], n);
  EXPECT_EQ((*json)["regions"].size(), result->regions.size());
  EXPECT_EQ((*json)["regions"][0]["start"], result->regions[0].start);
  EXPECT_DOUBLE_EQ((*json)["regions"][0]["start_s"].get<double>(), result->regions[0].start / 1e6);
  EXPECT_DOUBLE_EQ((*json)["stats"]["filtered"]["max_abs"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ((*json)["stats"]["filtered"]["noise_sigma"].get<double>(),
                   NoiseSigma(result->filtered));
  EXPECT_DOUBLE_EQ((*json)["regions"][0]["snr"].get<double>(), result->regions[0].snr);
  for (const char* name : {"raw", "filtered", "probability"}) {
    EXPECT_LE((*json)["series"][name]["value"].size(), 500u) << name;
    EXPECT_EQ((*json)["series"][name]["value"].size(), (*json)["series"][name]["index"].size());
  }
  EXPECT_FALSE(SignalResultToJson(*result, 1).ok());
}

TEST(AnalyseSignalTest, ModelErrorsPropagate) {
  const std::vector<double> raw(3000, 1.0);
  auto wrong_size = [](const std::vector<float>& b, size_t, size_t) -> Result<std::vector<float>> {
    return std::vector<float>(b.size() - 1);
  };
  EXPECT_EQ(AnalyseSignal(raw, wrong_size).status().code(), StatusCode::kInternal);
  auto failing = [](const std::vector<float>&, size_t, size_t) -> Result<std::vector<float>> {
    return Unavailable("engine down");
  };
  EXPECT_EQ(AnalyseSignal(raw, failing).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace seghub::signals
