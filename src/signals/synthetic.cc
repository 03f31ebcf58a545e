#include "signals/synthetic.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "signals/filter.h"

namespace seghub::signals {
namespace {

// Pulses are rendered until their envelope falls to this fraction of the peak; the remainder is
// far below the noise floor, and truncating keeps pulses local so they never overlap.
constexpr double kRenderFraction = 1e-4;

// SplitMix64 plus hand-written distributions: identical streams on every standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  size_t Index(size_t lo, size_t hi) {  // [lo, hi]
    return lo + static_cast<size_t>(Uniform() * static_cast<double>(hi - lo + 1));
  }
  double Normal() {
    const double u1 = 1.0 - Uniform();  // (0, 1], safe for log
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  uint64_t state_;
};

struct Shape {
  size_t rise = 1;         // samples up to and including the peak
  size_t label_tail = 0;   // samples after the peak with envelope above label_fraction
  size_t render_tail = 0;  // samples after the peak that are rendered
};

Shape PulseShape(double tau, size_t rise, double label_fraction) {
  Shape s;
  s.rise = std::max<size_t>(1, rise);
  s.label_tail = static_cast<size_t>(std::ceil(tau * std::log(1.0 / label_fraction)));
  s.render_tail = static_cast<size_t>(std::ceil(tau * std::log(1.0 / kRenderFraction)));
  return s;
}

// Sample t (0 = p.start) of pulse p: a linear rise to the peak, then exponential decay, times a
// cosine for oscillations (cos(0) = 1 at the peak, so the signed peak is exactly `amplitude`).
double PulseSample(const PulseInfo& p, const Shape& s, size_t t) {
  const size_t i = p.start + t;
  double v = i <= p.peak_index
                 ? p.amplitude * static_cast<double>(t + 1) / static_cast<double>(s.rise)
                 : p.amplitude * std::exp(-static_cast<double>(i - p.peak_index) / p.decay_samples);
  if (p.kind == PulseKind::kDampedOscillation) {
    const double k = static_cast<double>(i) - static_cast<double>(p.peak_index);
    v *= std::cos(2.0 * std::numbers::pi * k / p.period_samples);
  }
  return v;
}

// The legacy rule's rise for decay tau; 0 when rise is drawn on its own.
size_t RiseOf(const SyntheticOptions& o, double tau) {
  if (o.rise_per_decay <= 0.0) return 0;
  return std::max<size_t>(1, static_cast<size_t>(std::ceil(o.rise_per_decay * tau)));
}

Status Validate(const SyntheticOptions& o) {
  if (o.length == 0) return InvalidArgument("synthetic length must be positive");
  if (!(o.sample_rate_hz > 0.0)) return InvalidArgument("sample rate must be positive");
  if (o.min_pulses > o.max_pulses || o.min_pulse_amplitude > o.max_pulse_amplitude ||
      o.min_decay_samples > o.max_decay_samples || o.min_period_samples > o.max_period_samples ||
      o.interferer_min_freq > o.interferer_max_freq) {
    return InvalidArgument("synthetic option ranges must have min <= max");
  }
  if (!(o.min_decay_samples > 0.0)) return InvalidArgument("pulse decay must be positive");
  if (!(o.min_period_samples > 2.0)) {
    return InvalidArgument("oscillation period must exceed 2 samples (Nyquist)");
  }
  if (!(o.label_fraction > kRenderFraction && o.label_fraction < 1.0)) {
    return InvalidArgument("label_fraction must be in (1e-4, 1)");
  }
  if (o.interferer_min_freq < 0.0 || o.interferer_max_freq > 0.5) {
    return InvalidArgument("interferer frequencies must be within [0, 0.5] of the sample rate");
  }
  if (o.min_rise_samples < 1 || o.min_rise_samples > o.max_rise_samples || o.rise_per_decay < 0.0) {
    return InvalidArgument(
        "synthetic pulse rise must be 1 <= min <= max samples (and rise_per_decay >= 0)");
  }
  const Shape widest =
      PulseShape(o.max_decay_samples, std::max(o.max_rise_samples, RiseOf(o, o.max_decay_samples)),
                 o.label_fraction);
  const size_t footprint = widest.rise + widest.render_tail + 1;
  if (o.max_pulses > 0 && o.length / o.max_pulses < footprint + 2) {
    return InvalidArgument("a signal of " + std::to_string(o.length) + " samples cannot hold " +
                           std::to_string(o.max_pulses) + " non-overlapping pulses of up to " +
                           std::to_string(footprint) + " samples");
  }
  return Status::Ok();
}

void AddBackground(const SyntheticOptions& o, Rng& rng, std::vector<double>& x) {
  const double two_pi = 2.0 * std::numbers::pi;
  const double mains_phase = rng.Uniform(0.0, two_pi);
  const double mains_step = two_pi * o.mains_hz / o.sample_rate_hz;
  std::vector<double> freq(o.num_interferers), amp(o.num_interferers), phase(o.num_interferers);
  for (size_t k = 0; k < o.num_interferers; ++k) {
    freq[k] = two_pi * rng.Uniform(o.interferer_min_freq, o.interferer_max_freq);
    amp[k] = o.interferer_amplitude * rng.Uniform(0.5, 1.0);
    phase[k] = rng.Uniform(0.0, two_pi);
  }
  for (size_t i = 0; i < x.size(); ++i) {
    const double t = static_cast<double>(i);
    double v = o.mains_amplitude * std::sin(mains_step * t + mains_phase);
    for (size_t k = 0; k < o.num_interferers; ++k) v += amp[k] * std::sin(freq[k] * t + phase[k]);
    x[i] = v + o.noise_sigma * rng.Normal();
  }
}

// Draws one pulse whose whole rendered footprint lies in [slot_lo, slot_hi) and adds it to x.
PulseInfo AddPulse(const SyntheticOptions& o, Rng& rng, size_t slot_lo, size_t slot_hi,
                   SyntheticSignal& out) {
  PulseInfo p;
  p.kind = rng.Uniform() < o.oscillatory_fraction ? PulseKind::kDampedOscillation
                                                  : PulseKind::kDampedExponential;
  p.decay_samples = rng.Uniform(o.min_decay_samples, o.max_decay_samples);
  if (p.kind == PulseKind::kDampedOscillation) {
    p.period_samples = rng.Uniform(o.min_period_samples, o.max_period_samples);
  }
  p.amplitude = rng.Uniform(o.min_pulse_amplitude, o.max_pulse_amplitude);
  if (rng.Uniform() < 0.5) p.amplitude = -p.amplitude;
  p.rise_samples = o.rise_per_decay > 0.0 ? RiseOf(o, p.decay_samples)
                                          : rng.Index(o.min_rise_samples, o.max_rise_samples);
  const Shape s = PulseShape(p.decay_samples, p.rise_samples, o.label_fraction);
  const size_t footprint = s.rise + s.render_tail;
  p.start = rng.Index(slot_lo, slot_hi - footprint - 1);
  p.peak_index = p.start + s.rise - 1;
  p.end = p.peak_index + s.label_tail;  // kEnvelope extent
  for (size_t t = 0; t < footprint; ++t) out.signal[p.start + t] += PulseSample(p, s, t);
  return p;
}

// The pulse alone (rendered as AddPulse does), with margins for the zero-phase filter.
std::vector<double> RenderAlone(const SyntheticOptions& o, const PulseInfo& p, size_t margin,
                                size_t* offset) {
  const Shape s = PulseShape(p.decay_samples, p.rise_samples, o.label_fraction);
  const size_t footprint = s.rise + s.render_tail;
  *offset = p.start >= margin ? p.start - margin : 0;
  std::vector<double> x(p.start - *offset + footprint + margin, 0.0);
  for (size_t t = 0; t < footprint; ++t) x[p.start + t - *offset] = PulseSample(p, s, t);
  return x;
}

// kFiltered: narrows [start, end) to where the high-passed pulse stands out (see the header).
Status FilteredExtent(const SyntheticOptions& o, const FilterCoefficients& hp, PulseInfo* p) {
  constexpr size_t kMargin = 64;
  size_t offset = 0;
  const std::vector<double> x = RenderAlone(o, *p, kMargin, &offset);
  SEGHUB_ASSIGN_OR_RETURN(std::vector<double> y, FiltFilt(hp, x));
  double peak = 0.0;
  for (double v : y) peak = std::max(peak, std::abs(v));
  const double floor = std::max(o.label_fraction * peak, o.visibility_sigmas * o.noise_sigma);
  size_t first = y.size(), last = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    if (std::abs(y[i]) < floor) continue;
    first = std::min(first, i);
    last = i;
  }
  if (first > last) {  // invisible: keep a one-sample label at the peak
    p->start = p->peak_index;
    p->end = p->peak_index + 1;
    return Status::Ok();
  }
  p->start = std::max<size_t>(1, offset + first);
  p->end = offset + last + 1;
  return Status::Ok();
}

}  // namespace

Result<SyntheticSignal> GenerateSynthetic(const SyntheticOptions& options) {
  SEGHUB_RETURN_IF_ERROR(Validate(options));
  Rng rng(options.seed);
  SyntheticSignal out;
  out.signal.assign(options.length, 0.0);
  out.labels.assign(options.length, 0);
  AddBackground(options, rng, out.signal);
  const size_t count = rng.Index(options.min_pulses, options.max_pulses);
  // One pulse per equal slot keeps pulses apart without rejection sampling; the first sample is
  // kept free so that no pulse starts at index 0 (the pipeline discards such regions).
  for (size_t k = 0; k < count; ++k) {
    const size_t lo = std::max<size_t>(1, k * options.length / count);
    const size_t hi = (k + 1) * options.length / count;
    out.pulses.push_back(AddPulse(options, rng, lo, hi, out));
  }
  // Envelope extents are known analytically; filtered ones are measured below.
  if (options.label_basis == SyntheticOptions::LabelBasis::kFiltered) {
    SEGHUB_ASSIGN_OR_RETURN(
        FilterCoefficients hp,
        Butter(options.filter_order, options.filter_cutoff, FilterType::kHighPass));
    for (PulseInfo& p : out.pulses) {
      SEGHUB_RETURN_IF_ERROR(FilteredExtent(options, hp, &p));
      p.end = std::min(p.end, options.length);
    }
  }
  for (const PulseInfo& p : out.pulses) {
    std::fill(out.labels.begin() + p.start, out.labels.begin() + std::min(p.end, options.length),
              1);
  }
  return out;
}

}  // namespace seghub::signals
