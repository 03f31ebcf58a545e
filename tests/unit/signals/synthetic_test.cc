#include "signals/synthetic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "signals/filter.h"

namespace seghub::signals {
namespace {

SyntheticOptions PulsesOnly(uint64_t seed) {
  SyntheticOptions o;
  o.length = 20000;
  o.mains_amplitude = 0.0;
  o.noise_sigma = 0.0;
  o.num_interferers = 0;
  o.min_pulses = 5;
  o.max_pulses = 12;
  o.seed = seed;
  return o;
}

// With the background switched off, the waveform itself shows where pulses are: labelled samples
// are exactly those where a pulse's envelope is at least label_fraction of its peak.
TEST(SyntheticTest, LabelsLineUpWithPulses) {
  std::set<PulseKind> kinds;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const SyntheticOptions o = PulsesOnly(seed);
    auto s = GenerateSynthetic(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_GE(s->pulses.size(), o.min_pulses);
    ASSERT_LE(s->pulses.size(), o.max_pulses);
    std::vector<uint8_t> expected(o.length, 0);
    for (size_t k = 0; k < s->pulses.size(); ++k) {
      const PulseInfo& p = s->pulses[k];
      kinds.insert(p.kind);
      ASSERT_GT(p.start, 0u);
      ASSERT_LT(p.start, p.end);
      if (k > 0) {
        ASSERT_GT(p.start, s->pulses[k - 1].end);  // separate label runs
      }
      EXPECT_GE(std::abs(p.amplitude), o.min_pulse_amplitude);
      EXPECT_LE(std::abs(p.amplitude), o.max_pulse_amplitude);
      EXPECT_DOUBLE_EQ(s->signal[p.peak_index], p.amplitude);
      EXPECT_NE(s->signal[p.start], 0.0);
      double peak = 0.0;
      for (size_t i = p.start; i < p.end; ++i) peak = std::max(peak, std::abs(s->signal[i]));
      EXPECT_DOUBLE_EQ(peak, std::abs(p.amplitude));
      const double floor = o.label_fraction * std::abs(p.amplitude);
      if (p.kind == PulseKind::kDampedExponential) {
        // |x| is the envelope here: still above the fraction at the last labelled sample.
        EXPECT_GT(std::abs(s->signal[p.end - 1]), floor);
      }
      EXPECT_LE(std::abs(s->signal[p.end]), floor * (1 + 1e-12));
      std::fill(expected.begin() + p.start, expected.begin() + p.end, 1);
    }
    ASSERT_EQ(s->labels, expected);
    double max_outside = 0.0;
    for (size_t i = 0; i < o.length; ++i) {
      if (!s->labels[i]) max_outside = std::max(max_outside, std::abs(s->signal[i]));
    }
    EXPECT_LE(max_outside, o.label_fraction * o.max_pulse_amplitude);
  }
  EXPECT_EQ(kinds.size(), 2u);  // both pulse shapes occur
}

// kFiltered labels follow the pulse as the pipeline's high-pass shows it: the first and last
// labelled samples still reach label_fraction of the filtered peak, and slow exponential tails
// (no content above 0.4 Nyquist) are no longer labelled.
TEST(SyntheticTest, FilteredLabelsCoverWhatTheHighPassShows) {
  size_t shorter = 0, pulses = 0;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SyntheticOptions envelope = PulsesOnly(seed);
    SyntheticOptions filtered = envelope;
    filtered.label_basis = SyntheticOptions::LabelBasis::kFiltered;
    auto e = GenerateSynthetic(envelope);
    auto f = GenerateSynthetic(filtered);
    ASSERT_TRUE(e.ok() && f.ok());
    ASSERT_EQ(e->signal, f->signal);  // only the labels differ
    auto hp = Butter(3, 0.4, FilterType::kHighPass);
    ASSERT_TRUE(hp.ok());
    auto y = FiltFilt(*hp, f->signal);
    ASSERT_TRUE(y.ok());
    std::vector<uint8_t> expected(f->signal.size(), 0);
    for (size_t k = 0; k < f->pulses.size(); ++k) {
      const PulseInfo& p = f->pulses[k];
      ASSERT_LT(p.start, p.end);
      double peak = 0.0;
      for (size_t i = p.start; i < p.end; ++i) peak = std::max(peak, std::abs((*y)[i]));
      const double floor = filtered.label_fraction * peak;
      EXPECT_GE(std::abs((*y)[p.start]), floor * 0.98) << "seed " << seed << " pulse " << k;
      EXPECT_GE(std::abs((*y)[p.end - 1]), floor * 0.98) << "seed " << seed << " pulse " << k;
      const PulseInfo& raw = e->pulses[k];
      EXPECT_LE(p.end, raw.end + 8);
      if (p.end - p.start < raw.end - raw.start) ++shorter;
      ++pulses;
      std::fill(expected.begin() + p.start, expected.begin() + p.end, 1);
    }
    EXPECT_EQ(f->labels, expected);
  }
  EXPECT_GT(shorter, pulses / 2);
}

TEST(SyntheticTest, DeterministicBySeed) {
  SyntheticOptions o;
  o.length = 50000;
  o.sample_rate_hz = 2.5e6;  // one 50 Hz cycle = 50,000 samples
  auto a = GenerateSynthetic(o);
  auto b = GenerateSynthetic(o);
  o.seed = 2;
  auto c = GenerateSynthetic(o);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->signal, b->signal);
  EXPECT_EQ(a->labels, b->labels);
  ASSERT_EQ(a->pulses.size(), b->pulses.size());
  for (size_t k = 0; k < a->pulses.size(); ++k) EXPECT_EQ(a->pulses[k].start, b->pulses[k].start);
  EXPECT_NE(a->signal, c->signal);
}

TEST(SyntheticTest, MainsCycleMatchesSampleRate) {
  SyntheticOptions o;  // 40 MS/s: one 50 Hz cycle = 800,000 samples
  o.noise_sigma = 0.0;
  o.num_interferers = 0;
  o.min_pulses = o.max_pulses = 0;
  auto s = GenerateSynthetic(o);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->signal.size(), 800000u);
  EXPECT_TRUE(s->pulses.empty());
  double peak = 0.0;
  for (size_t i = 0; i < 400000; i += 101) {
    // Half a cycle later the sine has the opposite sign.
    ASSERT_NEAR(s->signal[i], -s->signal[i + 400000], 1e-6 * o.mains_amplitude) << i;
  }
  for (double v : s->signal) peak = std::max(peak, std::abs(v));
  EXPECT_NEAR(peak, o.mains_amplitude, 1e-6 * o.mains_amplitude);
}

TEST(SyntheticTest, RealisticDefaultsStayWithinTheClipRange) {
  SyntheticOptions o;
  o.length = 7920;
  o.sample_rate_hz = 7920 * 50.0;  // like the real test data: one cycle per signal
  auto s = GenerateSynthetic(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  double peak = 0.0;
  for (double v : s->signal) peak = std::max(peak, std::abs(v));
  EXPECT_GT(peak, 0.9 * o.mains_amplitude);
  EXPECT_LT(peak, 1e6);
}

TEST(SyntheticTest, RejectsInconsistentOptions) {
  SyntheticOptions o;
  o.length = 500;  // cannot hold 8 pulses of up to 116 samples
  auto s = GenerateSynthetic(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("non-overlapping"), std::string::npos);
  o = SyntheticOptions();
  o.min_period_samples = 2.0;
  EXPECT_FALSE(GenerateSynthetic(o).ok());
  o = SyntheticOptions();
  o.min_pulses = 9;
  EXPECT_FALSE(GenerateSynthetic(o).ok());
  o = SyntheticOptions();
  o.length = 0;
  EXPECT_FALSE(GenerateSynthetic(o).ok());
  o = SyntheticOptions();
  o.min_rise_samples = 5;  // above max_rise_samples
  EXPECT_FALSE(GenerateSynthetic(o).ok());
  o = SyntheticOptions();
  o.min_rise_samples = 0;  // a pulse reaches its peak on its first sample at the earliest
  EXPECT_FALSE(GenerateSynthetic(o).ok());
}

// Real PD pulses rise within a few samples however slowly they decay, so the rise is drawn on
// its own: every rise in range, slow pulses rising fast as well as slowly.
TEST(SyntheticTest, RiseIsDrawnIndependentlyOfDecay) {
  std::set<size_t> rises, slow_rises;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const SyntheticOptions o = PulsesOnly(seed);
    auto s = GenerateSynthetic(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (const PulseInfo& p : s->pulses) {
      ASSERT_GE(p.rise_samples, o.min_rise_samples);
      ASSERT_LE(p.rise_samples, o.max_rise_samples);
      ASSERT_EQ(p.peak_index - p.start + 1, p.rise_samples);
      EXPECT_LE(p.decay_samples, o.max_decay_samples);
      // The rise is linear: the first sample is 1/rise of the peak.
      if (p.kind == PulseKind::kDampedExponential) {
        EXPECT_NEAR(s->signal[p.start], p.amplitude / static_cast<double>(p.rise_samples),
                    1e-9 * std::abs(p.amplitude));
      }
      rises.insert(p.rise_samples);
      if (p.decay_samples > 9.0) slow_rises.insert(p.rise_samples);
    }
  }
  EXPECT_EQ(rises.size(), 4u);  // 1, 2, 3 and 4 all occur
  EXPECT_GE(slow_rises.size(), 3u);
  EXPECT_TRUE(slow_rises.count(1));
}

// rise_per_decay restores the first generator: rise = ceil(0.3 tau), slow pulses rising slowly.
TEST(SyntheticTest, LegacyRiseFollowsDecay) {
  size_t slow = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    SyntheticOptions o = PulsesOnly(seed);
    o.max_decay_samples = 30.0;
    o.rise_per_decay = 0.3;
    auto s = GenerateSynthetic(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (const PulseInfo& p : s->pulses) {
      EXPECT_EQ(p.rise_samples, static_cast<size_t>(std::ceil(0.3 * p.decay_samples)));
      ASSERT_EQ(p.peak_index - p.start + 1, p.rise_samples);
      if (p.rise_samples > 4) ++slow;
    }
  }
  EXPECT_GT(slow, 0u);
}

}  // namespace
}  // namespace seghub::signals
