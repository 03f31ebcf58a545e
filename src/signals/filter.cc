#include "signals/filter.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <string>

namespace seghub::signals {
namespace {

using Complex = std::complex<double>;

// Coefficients of prod(z - r) (highest power first), like numpy.poly. Roots come in conjugate
// pairs (or are real), so the imaginary parts cancel and are dropped.
std::vector<double> PolyFromRoots(const std::vector<Complex>& roots) {
  std::vector<Complex> c = {1.0};
  for (const Complex& r : roots) {
    c.push_back(0.0);
    for (size_t i = c.size() - 1; i > 0; --i) c[i] -= r * c[i - 1];
  }
  std::vector<double> out(c.size());
  for (size_t i = 0; i < c.size(); ++i) out[i] = c[i].real();
  return out;
}

Complex Product(const std::vector<Complex>& v, double offset, double sign) {
  Complex p = 1.0;
  for (const Complex& x : v) p *= offset + sign * x;
  return p;
}

// Normalises by a[0] and zero-pads both polynomials to a common length, as scipy does before
// running a filter.
Result<FilterCoefficients> Normalised(const FilterCoefficients& coeffs) {
  if (coeffs.a.empty() || coeffs.b.empty()) {
    return InvalidArgument("filter coefficients a and b must be non-empty");
  }
  if (coeffs.a[0] == 0.0) return InvalidArgument("filter coefficient a[0] must be non-zero");
  const size_t n = std::max(coeffs.a.size(), coeffs.b.size());
  FilterCoefficients out{std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
  for (size_t i = 0; i < coeffs.b.size(); ++i) out.b[i] = coeffs.b[i] / coeffs.a[0];
  for (size_t i = 0; i < coeffs.a.size(); ++i) out.a[i] = coeffs.a[i] / coeffs.a[0];
  return out;
}

// Solves m * x = rhs in place by Gaussian elimination with partial pivoting; false if singular.
bool SolveLinear(std::vector<std::vector<double>>& m, std::vector<double>& rhs) {
  const size_t n = rhs.size();
  for (size_t col = 0; col < n; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < n; ++r) {
      if (std::abs(m[r][col]) > std::abs(m[pivot][col])) pivot = r;
    }
    if (std::abs(m[pivot][col]) < 1e-300) return false;
    std::swap(m[col], m[pivot]);
    std::swap(rhs[col], rhs[pivot]);
    for (size_t r = col + 1; r < n; ++r) {
      const double f = m[r][col] / m[col][col];
      for (size_t c = col; c < n; ++c) m[r][c] -= f * m[col][c];
      rhs[r] -= f * rhs[col];
    }
  }
  for (size_t i = n; i-- > 0;) {
    double s = rhs[i];
    for (size_t c = i + 1; c < n; ++c) s -= m[i][c] * rhs[c];
    rhs[i] = s / m[i][i];
  }
  return true;
}

}  // namespace

Result<FilterCoefficients> Butter(int order, double wn, FilterType type) {
  if (order < 1 || order > 20) {
    return InvalidArgument("Butterworth order must be in [1, 20], got " + std::to_string(order));
  }
  if (!(wn > 0.0 && wn < 1.0)) {
    return InvalidArgument("normalised cutoff must be in (0, 1) (1 = Nyquist), got " +
                           std::to_string(wn));
  }
  // Analog prototype (cutoff 1 rad/s): poles on the left half of the unit circle, no zeros.
  std::vector<Complex> poles;
  for (int m = -order + 1; m < order; m += 2) {
    poles.push_back(-std::exp(Complex(0.0, std::numbers::pi * m / (2.0 * order))));
  }
  std::vector<Complex> zeros;
  double gain = 1.0;
  // Pre-warp so that the digital cutoff lands exactly at wn after the bilinear transform
  // (scipy uses fs = 2, hence 2 * fs = 4).
  constexpr double kFs2 = 4.0;
  const double warped = kFs2 * std::tan(std::numbers::pi * wn / 2.0);
  if (type == FilterType::kLowPass) {
    for (Complex& p : poles) p *= warped;
    gain *= std::pow(warped, order);
  } else {
    // s -> warped / s: poles invert and each adds a zero at the origin. The gain correction uses
    // the prototype poles (scipy's lp2hp_zpk), so the pass band stays at unit gain.
    gain *= (1.0 / Product(poles, 0.0, -1.0)).real();
    for (Complex& p : poles) p = warped / p;
    zeros.assign(order, 0.0);
  }
  // Bilinear transform; zeros at analog infinity map to z = -1.
  const size_t degree = poles.size() - zeros.size();
  gain *= (Product(zeros, kFs2, -1.0) / Product(poles, kFs2, -1.0)).real();
  for (Complex& z : zeros) z = (kFs2 + z) / (kFs2 - z);
  for (Complex& p : poles) p = (kFs2 + p) / (kFs2 - p);
  zeros.insert(zeros.end(), degree, -1.0);

  FilterCoefficients out{PolyFromRoots(zeros), PolyFromRoots(poles)};
  for (double& v : out.b) v *= gain;
  return out;
}

Result<std::vector<double>> LFilter(const FilterCoefficients& coeffs, std::span<const double> x,
                                    std::span<const double> zi, std::vector<double>* zf) {
  SEGHUB_ASSIGN_OR_RETURN(FilterCoefficients c, Normalised(coeffs));
  const size_t n = c.a.size();
  std::vector<double> z(n - 1, 0.0);
  if (!zi.empty()) {
    if (zi.size() != z.size()) {
      return InvalidArgument("initial state has " + std::to_string(zi.size()) +
                             " values, expected " + std::to_string(z.size()));
    }
    std::copy(zi.begin(), zi.end(), z.begin());
  }
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double xi = x[i];
    const double yi = c.b[0] * xi + (n > 1 ? z[0] : 0.0);
    for (size_t k = 1; k + 1 < n; ++k) z[k - 1] = c.b[k] * xi + z[k] - c.a[k] * yi;
    if (n > 1) z[n - 2] = c.b[n - 1] * xi - c.a[n - 1] * yi;
    y[i] = yi;
  }
  if (zf != nullptr) *zf = std::move(z);
  return y;
}

Result<std::vector<double>> LFilterZi(const FilterCoefficients& coeffs) {
  SEGHUB_ASSIGN_OR_RETURN(FilterCoefficients c, Normalised(coeffs));
  const size_t n = c.a.size() - 1;
  // (I - companion(a)^T) zi = b[1:] - a[1:] * b[0], as in scipy.signal.lfilter_zi.
  std::vector<std::vector<double>> m(n, std::vector<double>(n, 0.0));
  std::vector<double> rhs(n);
  for (size_t i = 0; i < n; ++i) {
    m[i][i] = 1.0;
    m[i][0] += c.a[i + 1];
    if (i + 1 < n) m[i][i + 1] -= 1.0;
    rhs[i] = c.b[i + 1] - c.a[i + 1] * c.b[0];
  }
  if (!SolveLinear(m, rhs)) {
    return InvalidArgument("filter has a pole at z = 1; it has no steady-state initial condition");
  }
  return rhs;
}

Result<std::vector<double>> FiltFilt(const FilterCoefficients& coeffs, std::span<const double> x,
                                     int padlen) {
  const size_t ntaps = std::max(coeffs.a.size(), coeffs.b.size());
  const size_t edge = padlen < 0 ? 3 * ntaps : static_cast<size_t>(padlen);
  if (x.size() <= edge) {
    return InvalidArgument("signal has " + std::to_string(x.size()) +
                           " samples; zero-phase filtering needs more than the padding length " +
                           std::to_string(edge));
  }
  // Odd extension: reflect about the end points so the padded signal stays continuous in value
  // and slope, which keeps the start-up transient small.
  const size_t n = x.size();
  std::vector<double> ext;
  ext.reserve(n + 2 * edge);
  for (size_t i = edge; i >= 1; --i) ext.push_back(2.0 * x[0] - x[i]);
  ext.insert(ext.end(), x.begin(), x.end());
  for (size_t i = 1; i <= edge; ++i) ext.push_back(2.0 * x[n - 1] - x[n - 1 - i]);

  SEGHUB_ASSIGN_OR_RETURN(std::vector<double> zi, LFilterZi(coeffs));
  std::vector<double> z0(zi.size());
  for (size_t i = 0; i < zi.size(); ++i) z0[i] = zi[i] * ext.front();
  SEGHUB_ASSIGN_OR_RETURN(std::vector<double> fwd, LFilter(coeffs, ext, z0));
  std::reverse(fwd.begin(), fwd.end());
  for (size_t i = 0; i < zi.size(); ++i) z0[i] = zi[i] * fwd.front();
  SEGHUB_ASSIGN_OR_RETURN(std::vector<double> bwd, LFilter(coeffs, fwd, z0));
  std::reverse(bwd.begin(), bwd.end());
  return std::vector<double>(bwd.begin() + edge, bwd.begin() + edge + n);
}

}  // namespace seghub::signals
