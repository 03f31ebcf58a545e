// Labelled synthetic partial-discharge signals for training and evaluation.
//
// A signal is a 50 Hz mains sine (one cycle is sample_rate / 50 samples: 800,000 at 40 MS/s)
// plus white Gaussian noise, a few narrow-band interferers (constant-frequency carriers, as from
// radio or switching supplies) and PD pulses at known positions. Pulses are either damped
// exponentials (fast linear rise, exponential decay) or damped oscillations (exponentially
// decaying sine). Pulse shapes are specified in samples, not seconds, so that short synthetic
// signals at low sample rates still get pulses a few samples wide.
//
// Labels (label_basis):
//  - kEnvelope: each pulse from its first sample until its raw envelope decays below
//    `label_fraction` of its peak; beyond that the pulse tail is smaller than label_fraction*peak.
//  - kFiltered: where the pulse is visible after the pipeline's high-pass (the same zero-phase
//    Butterworth as signals::Preprocess, applied to the pulse alone): the first to the last sample
//    whose |filtered pulse| is at least max(label_fraction * filtered peak,
//    visibility_sigmas * noise_sigma). A slow exponential tail has no content above 0.4 Nyquist,
//    so under kEnvelope its end is invisible to any detector that sees the filtered signal.
//
// Generation is deterministic for a given seed on every platform: it uses its own SplitMix64 /
// Box-Muller sampling instead of std:: distributions, whose output is implementation-defined.
#ifndef SEGHUB_SIGNALS_SYNTHETIC_H_
#define SEGHUB_SIGNALS_SYNTHETIC_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/status.h"

namespace seghub::signals {

struct SyntheticOptions {
  size_t length = 800000;
  double sample_rate_hz = 40e6;
  double mains_hz = 50.0;
  double mains_amplitude = 725000.0;  // the real test data peaks near +-725,000
  double noise_sigma = 1500.0;
  size_t num_interferers = 2;
  double interferer_amplitude = 3000.0;
  double interferer_min_freq = 0.05;  // as a fraction of the sample rate
  double interferer_max_freq = 0.45;
  size_t min_pulses = 1;
  size_t max_pulses = 8;
  double min_pulse_amplitude = 20000.0;
  double max_pulse_amplitude = 150000.0;
  double oscillatory_fraction = 0.5;  // probability that a pulse is a damped oscillation
  // Decay time constant tau and rise (first sample to peak), in samples. The defaults cover the
  // pulses of the real recording ../shared/data/pd/test_dataa.npy: scripts/pd_pulse_shapes.py
  // finds 15 of its 18 regions rising in 1-4 samples (the other three are weak, 6-12) with tau
  // 1.4-7.0 (median 6.3), and the slowest decay allowed is about twice the slowest seen.
  // rise_per_decay > 0 restores the first generator's rule, rise = ceil(rise_per_decay * tau), with
  // tau up to 30: slow-rising pulses that the 0.4-Nyquist high-pass all but erases (kept to
  // reproduce older figures).
  double min_decay_samples = 3.0;
  double max_decay_samples = 12.0;
  size_t min_rise_samples = 1;
  size_t max_rise_samples = 4;
  double rise_per_decay = 0.0;
  double min_period_samples = 3.0;  // oscillation period of oscillatory pulses (>2: Nyquist)
  double max_period_samples = 12.0;
  double label_fraction = 0.05;
  enum class LabelBasis { kEnvelope, kFiltered };
  LabelBasis label_basis = LabelBasis::kEnvelope;
  double visibility_sigmas = 2.0;  // kFiltered: floor in units of noise_sigma
  int filter_order = 3;            // kFiltered: the pipeline's high-pass
  double filter_cutoff = 0.4;      // fraction of Nyquist
  uint64_t seed = 1;
};

enum class PulseKind { kDampedExponential, kDampedOscillation };

struct PulseInfo {
  PulseKind kind = PulseKind::kDampedExponential;
  size_t start = 0;  // label extent [start, end)
  size_t end = 0;
  size_t peak_index = 0;    // where the envelope peaks
  size_t rise_samples = 1;  // start to peak_index inclusive
  double amplitude = 0.0;   // signed envelope peak
  double decay_samples = 0.0;
  double period_samples = 0.0;  // 0 for exponential pulses
};

struct SyntheticSignal {
  std::vector<double> signal;
  std::vector<uint8_t> labels;    // 1 inside a pulse extent
  std::vector<PulseInfo> pulses;  // sorted by start
};

// Fails with kInvalidArgument on inconsistent options (e.g. pulses that cannot fit).
Result<SyntheticSignal> GenerateSynthetic(const SyntheticOptions& options);

}  // namespace seghub::signals

#endif  // SEGHUB_SIGNALS_SYNTHETIC_H_
