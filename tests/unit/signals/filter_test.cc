// References here are computed independently of filter.cc: Butterworth coefficients by expanding
// the bilinear-transformed analog transfer function as real polynomials, and magnitudes from the
// closed-form Butterworth response with pre-warped frequencies.
#include "signals/filter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

namespace seghub::signals {
namespace {

using Poly = std::vector<double>;  // coefficients of z^-k, k = 0, 1, ...

Poly Mul(const Poly& p, const Poly& q) {
  Poly r(p.size() + q.size() - 1, 0.0);
  for (size_t i = 0; i < p.size(); ++i) {
    for (size_t j = 0; j < q.size(); ++j) r[i + j] += p[i] * q[j];
  }
  return r;
}

Poly Pow(const Poly& p, int n) {
  Poly r = {1.0};
  for (int i = 0; i < n; ++i) r = Mul(r, p);
  return r;
}

// Third-order analog high-pass s^3 / (s^3 + 2W s^2 + 2W^2 s + W^3), W = tan(pi wn / 2), with
// s = (1 - z^-1) / (1 + z^-1); multiplying through by (1 + z^-1)^3 gives polynomials in z^-1.
void ThirdOrderHighPass(double wn, Poly* b, Poly* a) {
  const double w = std::tan(std::numbers::pi * wn / 2.0);
  const Poly minus = {1.0, -1.0};
  const Poly plus = {1.0, 1.0};
  *b = Pow(minus, 3);
  const Poly terms[] = {Pow(minus, 3), Mul(Pow(minus, 2), plus), Mul(minus, Pow(plus, 2)),
                        Pow(plus, 3)};
  const double weights[] = {1.0, 2.0 * w, 2.0 * w * w, w * w * w};
  *a = Poly(4, 0.0);
  for (int t = 0; t < 4; ++t) {
    for (int k = 0; k < 4; ++k) (*a)[k] += weights[t] * terms[t][k];
  }
  const double a0 = (*a)[0];
  for (double& v : *a) v /= a0;
  for (double& v : *b) v /= a0;
}

double Magnitude(const FilterCoefficients& c, double w) {
  std::complex<double> num = 0.0, den = 0.0;
  for (size_t k = 0; k < c.b.size(); ++k) num += c.b[k] * std::polar(1.0, -w * k);
  for (size_t k = 0; k < c.a.size(); ++k) den += c.a[k] * std::polar(1.0, -w * k);
  return std::abs(num / den);
}

// Closed-form digital Butterworth magnitude at w (rad/sample) for cutoff wn (fraction of Nyquist).
double ButterworthMagnitude(int order, double wn, double w, FilterType type) {
  const double ratio = std::tan(w / 2.0) / std::tan(std::numbers::pi * wn / 2.0);
  const double r = type == FilterType::kLowPass ? ratio : 1.0 / ratio;
  return 1.0 / std::sqrt(1.0 + std::pow(r, 2 * order));
}

TEST(ButterTest, ThirdOrderHighPassMatchesAnalyticExpansion) {
  for (double wn : {0.4, 0.1, 0.75}) {
    Poly b, a;
    ThirdOrderHighPass(wn, &b, &a);
    auto c = Butter(3, wn, FilterType::kHighPass);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_EQ(c->b.size(), 4u);
    ASSERT_EQ(c->a.size(), 4u);
    for (int k = 0; k < 4; ++k) {
      EXPECT_NEAR(c->b[k], b[k], 1e-13) << "wn=" << wn << " k=" << k;
      EXPECT_NEAR(c->a[k], a[k], 1e-13) << "wn=" << wn << " k=" << k;
    }
  }
}

TEST(ButterTest, MagnitudeMatchesClosedFormAcrossOrdersAndTypes) {
  for (FilterType type : {FilterType::kLowPass, FilterType::kHighPass}) {
    for (int order : {1, 2, 3, 4, 5, 8}) {
      for (double wn : {0.05, 0.2, 0.4, 0.9}) {
        auto c = Butter(order, wn, type);
        ASSERT_TRUE(c.ok());
        EXPECT_DOUBLE_EQ(c->a[0], 1.0);
        // Transfer-function (b, a) form is ill-conditioned for high orders at low cutoffs (as
        // in scipy), so order 8 gets a looser tolerance.
        const double tol = order <= 5 ? 1e-9 : 1e-6;
        for (int i = 1; i < 200; ++i) {
          const double w = std::numbers::pi * i / 200.0;
          EXPECT_NEAR(Magnitude(*c, w), ButterworthMagnitude(order, wn, w, type), tol)
              << "order=" << order << " wn=" << wn << " w=" << w;
        }
        // -3 dB exactly at the cutoff thanks to pre-warping.
        EXPECT_NEAR(Magnitude(*c, std::numbers::pi * wn), 1.0 / std::sqrt(2.0), tol);
      }
    }
  }
}

TEST(ButterTest, RejectsInvalidParameters) {
  EXPECT_EQ(Butter(0, 0.4, FilterType::kHighPass).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Butter(21, 0.4, FilterType::kHighPass).status().code(), StatusCode::kInvalidArgument);
  for (double wn : {0.0, 1.0, -0.2, 1.5, std::nan("")}) {
    auto c = Butter(3, wn, FilterType::kLowPass);
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << wn;
    EXPECT_NE(c.status().message().find("cutoff"), std::string::npos);
  }
}

TEST(LFilterTest, ImpulseResponseOfOnePoleAndFir) {
  std::vector<double> impulse(10, 0.0);
  impulse[0] = 1.0;
  auto y = LFilter({{2.0}, {2.0, -1.0}}, impulse);  // normalised: 1 / (1 - 0.5 z^-1)
  ASSERT_TRUE(y.ok());
  for (size_t n = 0; n < y->size(); ++n) EXPECT_DOUBLE_EQ((*y)[n], std::pow(0.5, n));
  auto fir = LFilter({{1.0, 2.0, 3.0}, {1.0}}, impulse);
  ASSERT_TRUE(fir.ok());
  EXPECT_EQ((*fir)[0], 1.0);
  EXPECT_EQ((*fir)[1], 2.0);
  EXPECT_EQ((*fir)[2], 3.0);
  EXPECT_EQ((*fir)[3], 0.0);
}

TEST(LFilterTest, FinalStateContinuesAcrossChunks) {
  auto c = Butter(4, 0.3, FilterType::kLowPass);
  ASSERT_TRUE(c.ok());
  std::vector<double> x(300);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.07 * i) + 0.3 * std::cos(1.9 * i);
  auto whole = LFilter(*c, x);
  std::vector<double> zf;
  auto first = LFilter(*c, std::span(x).first(137), {}, &zf);
  auto second = LFilter(*c, std::span(x).subspan(137), zf);
  ASSERT_TRUE(whole.ok() && first.ok() && second.ok());
  for (size_t i = 0; i < x.size(); ++i) {
    const double part = i < 137 ? (*first)[i] : (*second)[i - 137];
    EXPECT_NEAR(part, (*whole)[i], 1e-12);
  }
}

TEST(LFilterTest, ZiGivesSteadyStateStepResponse) {
  for (FilterType type : {FilterType::kLowPass, FilterType::kHighPass}) {
    auto c = Butter(3, 0.4, type);
    ASSERT_TRUE(c.ok());
    auto zi = LFilterZi(*c);
    ASSERT_TRUE(zi.ok());
    ASSERT_EQ(zi->size(), 3u);
    const double level = 2.5;
    std::vector<double> scaled(*zi);
    for (double& v : scaled) v *= level;
    std::vector<double> step(50, level);
    auto y = LFilter(*c, step, scaled);
    ASSERT_TRUE(y.ok());
    const double dc_gain = type == FilterType::kLowPass ? 1.0 : 0.0;  // H(z = 1)
    for (double v : *y) EXPECT_NEAR(v, level * dc_gain, 1e-12);
  }
}

TEST(LFilterTest, RejectsBadInput) {
  std::vector<double> x(5, 1.0);
  EXPECT_EQ(LFilter({{1.0}, {0.0, 1.0}}, x).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LFilter({{1.0, 1.0}, {1.0}}, x, std::vector<double>{1.0, 2.0}).status().code(),
            StatusCode::kInvalidArgument);
  // 1 / (1 - z^-1) integrates: no steady state.
  EXPECT_EQ(LFilterZi({{1.0}, {1.0, -1.0}}).status().code(), StatusCode::kInvalidArgument);
}

// filtfilt applies |H| twice with zero phase: a tone of frequency w comes out scaled by |H(w)|^2
// and not shifted. Checked away from the ends, where the padding transient has died out.
TEST(FiltFiltTest, SinePairAmplitudeIsMagnitudeSquaredWithZeroPhase) {
  auto c = Butter(3, 0.4, FilterType::kHighPass);
  ASSERT_TRUE(c.ok());
  const double w_low = 0.05 * std::numbers::pi;
  const double w_high = 0.8 * std::numbers::pi;
  const size_t n = 4000;
  std::vector<double> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = std::sin(w_low * i) + 0.5 * std::sin(w_high * i + 0.3);
  auto y = FiltFilt(*c, x);
  ASSERT_TRUE(y.ok());
  ASSERT_EQ(y->size(), n);
  const double g_low = std::pow(ButterworthMagnitude(3, 0.4, w_low, FilterType::kHighPass), 2);
  const double g_high = std::pow(ButterworthMagnitude(3, 0.4, w_high, FilterType::kHighPass), 2);
  EXPECT_LT(g_low, 1e-5);   // removed
  EXPECT_GT(g_high, 0.99);  // kept
  for (size_t i = 200; i < n - 200; ++i) {
    const double expected = g_low * std::sin(w_low * i) + g_high * 0.5 * std::sin(w_high * i + 0.3);
    ASSERT_NEAR((*y)[i], expected, 1e-9) << i;
  }
}

TEST(FiltFiltTest, PureToneNearCutoffIsHalvedInAmplitude) {
  auto c = Butter(3, 0.4, FilterType::kHighPass);
  ASSERT_TRUE(c.ok());
  const double w = 0.4 * std::numbers::pi;  // |H| = 1/sqrt(2) -> |H|^2 = 0.5
  std::vector<double> x(3000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(w * i);
  auto y = FiltFilt(*c, x);
  ASSERT_TRUE(y.ok());
  for (size_t i = 300; i < x.size() - 300; ++i) ASSERT_NEAR((*y)[i], 0.5 * x[i], 1e-9) << i;
}

TEST(FiltFiltTest, ConstantSignal) {
  std::vector<double> x(100, 7.0);
  auto hp = Butter(3, 0.4, FilterType::kHighPass);
  auto lp = Butter(3, 0.4, FilterType::kLowPass);
  ASSERT_TRUE(hp.ok() && lp.ok());
  auto yh = FiltFilt(*hp, x);
  auto yl = FiltFilt(*lp, x);
  ASSERT_TRUE(yh.ok() && yl.ok());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR((*yh)[i], 0.0, 1e-11);  // all samples: zi makes the start transient-free
    EXPECT_NEAR((*yl)[i], 7.0, 1e-11);
  }
}

// Edge handling spelled out step by step as scipy documents it (odd extension, zi scaled by the
// first sample of each pass, reverse, trim), built here from LFilter/LFilterZi.
TEST(FiltFiltTest, MatchesExplicitPadFilterReverseConstruction) {
  auto c = Butter(3, 0.4, FilterType::kHighPass);
  ASSERT_TRUE(c.ok());
  std::vector<double> x(40);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 3.0 + 0.1 * i * i - std::sin(1.3 * i);
  const size_t pad = 12;  // 3 * max(len(a), len(b))
  std::vector<double> ext;
  for (size_t i = 0; i < pad; ++i) ext.push_back(2 * x.front() - x[pad - i]);
  ext.insert(ext.end(), x.begin(), x.end());
  for (size_t i = 0; i < pad; ++i) ext.push_back(2 * x.back() - x[x.size() - 2 - i]);
  auto zi = LFilterZi(*c);
  ASSERT_TRUE(zi.ok());
  auto scaled = [&](double s) {
    std::vector<double> z(*zi);
    for (double& v : z) v *= s;
    return z;
  };
  auto f = LFilter(*c, ext, scaled(ext.front()));
  ASSERT_TRUE(f.ok());
  std::vector<double> rev(f->rbegin(), f->rend());
  auto g = LFilter(*c, rev, scaled(rev.front()));
  ASSERT_TRUE(g.ok());
  auto y = FiltFilt(*c, x);
  ASSERT_TRUE(y.ok());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR((*y)[i], (*g)[g->size() - 1 - pad - i], 1e-12) << i;
  }
}

TEST(FiltFiltTest, SignalMustBeLongerThanPadding) {
  auto c = Butter(3, 0.4, FilterType::kHighPass);
  ASSERT_TRUE(c.ok());
  auto short_result = FiltFilt(*c, std::vector<double>(12, 1.0));
  EXPECT_EQ(short_result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(short_result.status().message().find("padding"), std::string::npos);
  EXPECT_TRUE(FiltFilt(*c, std::vector<double>(13, 1.0)).ok());
  EXPECT_FALSE(FiltFilt(*c, std::vector<double>{}).ok());
  EXPECT_TRUE(FiltFilt(*c, std::vector<double>(3, 1.0), /*padlen=*/2).ok());
}

TEST(FiltFiltTest, LongSignalIsFastAndStable) {
  auto c = Butter(3, 0.4, FilterType::kHighPass);
  ASSERT_TRUE(c.ok());
  const size_t n = 800000;  // one 50 Hz cycle at 40 MS/s
  std::vector<double> x(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] =
        7e5 * std::sin(2 * std::numbers::pi * i / n) + 1e3 * std::sin(0.9 * std::numbers::pi * i);
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto y = FiltFilt(*c, x);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(y.ok());
  EXPECT_LT(seconds, 2.0);
  const double g =
      std::pow(ButterworthMagnitude(3, 0.4, 0.9 * std::numbers::pi, FilterType::kHighPass), 2);
  // The 50 Hz sine (|H|^2 ~ 1e-30) vanishes; the high tone survives scaled by |H|^2.
  for (size_t i = 1000; i < n - 1000; i += 997) {
    ASSERT_NEAR((*y)[i], g * 1e3 * std::sin(0.9 * std::numbers::pi * i), 1e-6) << i;
  }
}

}  // namespace
}  // namespace seghub::signals
