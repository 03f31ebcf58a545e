// IIR filter design and application, numerically matching scipy.signal.
//
// The PD pipeline must reproduce the original Python service's preprocessing bit-for-bit (up to
// rounding), so these functions follow scipy's algorithms rather than textbook variants:
// - Butter() = scipy.signal.butter(N, Wn, btype, analog=False, output='ba'): analog prototype
//   poles -> lp2lp/lp2hp with a pre-warped cutoff -> bilinear transform (fs = 2) -> polynomial.
// - LFilter() = scipy.signal.lfilter (direct form II transposed), with optional initial state.
// - LFilterZi() = scipy.signal.lfilter_zi (steady state for a unit step input).
// - FiltFilt() = scipy.signal.filtfilt with method='pad', padtype='odd' and
//   padlen = 3 * max(len(a), len(b)) by default.
#ifndef SEGHUB_SIGNALS_FILTER_H_
#define SEGHUB_SIGNALS_FILTER_H_

#include <span>
#include <vector>

#include "common/status.h"

namespace seghub::signals {

enum class FilterType { kLowPass, kHighPass };

// Transfer function coefficients, highest power of z^-1 last; a[0] == 1 after Butter().
struct FilterCoefficients {
  std::vector<double> b;
  std::vector<double> a;
};

// Digital Butterworth filter of order `order` (1..20) with normalised cutoff `wn` in (0, 1),
// where 1 is the Nyquist frequency. Invalid parameters give kInvalidArgument.
Result<FilterCoefficients> Butter(int order, double wn, FilterType type);

// Filters `x` with direct form II transposed. `zi` is the initial state (length
// max(len(a), len(b)) - 1) or empty for zero state. When `zf` is not null it receives the final
// state. Coefficients are normalised by a[0]; a[0] == 0 gives kInvalidArgument.
Result<std::vector<double>> LFilter(const FilterCoefficients& coeffs, std::span<const double> x,
                                    std::span<const double> zi = {},
                                    std::vector<double>* zf = nullptr);

// Initial state for which LFilter's response to a unit step is the steady state from the first
// sample. Fails (kInvalidArgument) when the filter has a pole at z = 1 (no steady state).
Result<std::vector<double>> LFilterZi(const FilterCoefficients& coeffs);

// Zero-phase forward-backward filtering. `padlen` < 0 selects scipy's default
// 3 * max(len(a), len(b)). Like scipy, x.size() must be greater than padlen; shorter signals give
// kInvalidArgument (no silent fallback: a different padding would change the output).
Result<std::vector<double>> FiltFilt(const FilterCoefficients& coeffs, std::span<const double> x,
                                     int padlen = -1);

}  // namespace seghub::signals

#endif  // SEGHUB_SIGNALS_FILTER_H_
