#include "imaging/synthetic_spheroids.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "imaging/synthetic_textures.h"

namespace seghub::imaging {
namespace {

using synthetic::BlobOutline;
using synthetic::Body;
using synthetic::DistanceField;
using synthetic::DrawLabels;
using synthetic::FillOutline;
using synthetic::FractalNoise;
using synthetic::Illumination;
using synthetic::MakeBody;
using synthetic::PlaceBodies;
using synthetic::SmoothNoise;
using synthetic::Uniform;

constexpr double kPi = 3.14159265358979323846;

// Transmission of dark, granular spheroids (1 outside): lighter at the edge where cells are
// single, nearly opaque inside, darker again in the necrotic core, with cell-sized granules.
cv::Mat DarkBodyTransmission(const std::vector<Body>& bodies, const cv::Mat& labels, cv::RNG& rng) {
  const cv::Size size = labels.size();
  const cv::Mat inside = DistanceField(labels != 0, false);
  const double t_edge = Uniform(rng, 0.35, 0.55), t_core = Uniform(rng, 0.07, 0.16);
  cv::Mat body_t(size, CV_32F, cv::Scalar(t_edge));
  for (size_t i = 0; i < bodies.size(); ++i) {
    const Body& b = bodies[i];
    const cv::Mat region = labels == static_cast<int>(i) + 1;
    cv::Mat depth = cv::min(inside / (0.3 * b.radius), 1.0);
    cv::Mat smooth = depth.mul(depth).mul(3.0 - 2.0 * depth);  // smoothstep
    cv::Mat t = t_edge + (t_core - t_edge) * smooth;
    // Necrotic core: an off-centre soft disc of extra darkness.
    cv::Mat core = cv::Mat::zeros(size, CV_32F);
    const cv::Point2f shift(static_cast<float>(Uniform(rng, -0.15, 0.15) * b.radius),
                            static_cast<float>(Uniform(rng, -0.15, 0.15) * b.radius));
    cv::circle(core, b.centre + shift, cvRound(b.radius * Uniform(rng, 0.3, 0.6)), 1.0, cv::FILLED,
               cv::LINE_AA);
    cv::GaussianBlur(core, core, cv::Size(), b.radius * 0.15);
    t = t.mul(1.0 - Uniform(rng, 0.3, 0.65) * core);
    // Granules, stronger where the body is thin.
    cv::Mat grain = FractalNoise(size, b.cell_radius * 1.3, 3, 0.55, rng);
    cv::Mat amplitude = Uniform(rng, 0.15, 0.28) * (1.6 - 0.8 * smooth);
    cv::Mat factor;
    cv::exp(grain.mul(amplitude), factor);
    t = t.mul(factor);
    t.copyTo(body_t, region);
  }
  cv::min(body_t, 0.95, body_t);
  // Soft optical edge: the object fades in over about a pixel.
  cv::Mat alpha;
  cv::Mat(labels != 0).convertTo(alpha, CV_32F, 1.0 / 255.0);
  cv::GaussianBlur(alpha, alpha, cv::Size(), Uniform(rng, 0.7, 1.4));
  return 1.0 - alpha.mul(1.0 - body_t);
}

// Debris, loose cells around the bodies, out-of-focus clumps, vesicles and fibres.
void AddBrightFieldClutter(const std::vector<Body>& bodies, const cv::Mat& labels,
                           const SyntheticSpheroidOptions& o, cv::RNG& rng, cv::Mat* t) {
  const cv::Size size = labels.size();
  const double s = std::min(size.width, size.height) / 512.0;
  const double c = o.clutter;
  const double cell = bodies.front().cell_radius;
  const cv::Mat outside = DistanceField(labels != 0, true);
  const cv::Mat near_ring = (outside > 0) & (outside < bodies.front().radius * 0.5);
  synthetic::DrawSpecks(t, static_cast<int>(Uniform(rng, 20, 400) * c), cell * 0.4, cell, 0.1, 0.45,
                        rng, near_ring);
  const cv::Mat patches = SmoothNoise(size, 60 * s, rng) > Uniform(rng, 0.8, 1.6);
  synthetic::DrawSpecks(t, static_cast<int>(Uniform(rng, 200, 900) * c), cell * 0.5, cell * 1.5,
                        0.05, 0.25, rng, patches);
  synthetic::DrawSpecks(t, static_cast<int>(Uniform(rng, 5, 40) * c), 0.8 * s, 4 * s, 0.4, 0.95,
                        rng);
  const int vesicles = static_cast<int>(Uniform(rng, 0, 2.6) * c);
  for (int i = 0; i < vesicles; ++i) {
    const Body& b = bodies[rng.uniform(0, static_cast<int>(bodies.size()))];
    const double vr = b.radius * Uniform(rng, 0.2, 0.4);
    cv::Point2f centre(static_cast<float>(Uniform(rng, 0, size.width)),
                       static_cast<float>(Uniform(rng, 0, size.height)));
    if (Uniform(rng, 0, 1) < 0.6) {  // vesicles often sit against a spheroid
      const double a = Uniform(rng, 0, 2 * kPi);
      centre = b.centre + cv::Point2f(static_cast<float>((b.radius + vr * 0.9) * std::cos(a)),
                                      static_cast<float>((b.radius + vr * 0.9) * std::sin(a)));
    }
    synthetic::DrawVesicle(t, centre, vr, rng);
  }
  if (Uniform(rng, 0, 1) < 0.3 * c) synthetic::DrawFibre(t, rng);
}

// A well wall cutting through the corners: darker outside a large circle, a rim line on it.
void AddWellRim(cv::Size size, double outside_level, double rim_level, cv::RNG& rng,
                cv::Mat* field) {
  const double diag = std::hypot(size.width, size.height);
  const cv::Point centre(cvRound(size.width * Uniform(rng, 0.4, 0.6)),
                         cvRound(size.height * Uniform(rng, 0.4, 0.6)));
  const int radius = cvRound(diag * Uniform(rng, 0.42, 0.55));
  cv::Mat wall(size, CV_32F, cv::Scalar(outside_level));
  cv::circle(wall, centre, radius, 1.0, cv::FILLED, cv::LINE_AA);
  cv::GaussianBlur(wall, wall, cv::Size(), diag * 0.01);
  cv::circle(wall, centre, radius, rim_level, std::max(1, cvRound(diag * 0.003)), cv::LINE_AA);
  cv::GaussianBlur(wall, wall, cv::Size(), 1.0);
  *field = field->mul(wall);
}

cv::Mat RenderBrightField(const SyntheticSpheroidOptions& o, cv::RNG& rng, SyntheticSpheroid* out) {
  const cv::Size size(o.width, o.height);
  const std::vector<Body> bodies = PlaceBodies(size, o.min_radius_fraction, o.max_radius_fraction,
                                               o.touching_pair_probability, rng);
  out->labels = DrawLabels(bodies, size, rng);
  out->num_spheroids = static_cast<int>(bodies.size());
  cv::Mat t = DarkBodyTransmission(bodies, out->labels, rng);
  // Phase halo: a bright rim just outside the body.
  cv::Mat halo, outside;
  cv::exp(-DistanceField(out->labels != 0, true) / (Uniform(rng, 2, 8) * o.width / 512.0), halo);
  cv::Mat(out->labels == 0).convertTo(outside, CV_32F, 1.0 / 255.0);
  t = t.mul(1.0 + Uniform(rng, 0.03, 0.1) * halo.mul(outside));
  AddBrightFieldClutter(bodies, out->labels, o, rng, &t);
  cv::Mat field = t.mul(Illumination(size, Uniform(rng, 0.03, 0.2), Uniform(rng, 0.05, 0.5), rng));
  field = field.mul(1.0 + 0.015 * FractalNoise(size, size.width / 8.0, 3, 0.5, rng));
  if (Uniform(rng, 0, 1) < 0.35) AddWellRim(size, Uniform(rng, 0.5, 0.8), 0.5, rng, &field);
  cv::Mat intensity = field * Uniform(rng, 195, 238);
  cv::GaussianBlur(intensity, intensity, cv::Size(), Uniform(rng, 0.4, 0.9));
  return intensity;
}

// A wide ring of dispersed cells with clear gaps around one to three dark bodies.
cv::Mat RenderDisintegrating(const SyntheticSpheroidOptions& o, cv::RNG& rng,
                             SyntheticSpheroid* out) {
  const cv::Size size(o.width, o.height);
  const double side = std::min(o.width, o.height);
  const double corona_r = std::min(0.47, Uniform(rng, 0.32, 0.45)) * side;
  const cv::Point2f centre(static_cast<float>(o.width / 2.0 + Uniform(rng, -0.03, 0.03) * side),
                           static_cast<float>(o.height / 2.0 + Uniform(rng, -0.03, 0.03) * side));
  std::vector<Body> bodies;
  const int count = rng.uniform(1, 4);
  for (int i = 0; i < count; ++i) {
    const double r = corona_r * Uniform(rng, 0.15, 0.3) * (i == 0 ? 1.0 : 0.7);
    const double a = Uniform(rng, 0, 2 * kPi), d = Uniform(rng, 0, 0.45) * corona_r;
    const cv::Point2f c = centre + cv::Point2f(static_cast<float>(d * std::cos(a)),
                                               static_cast<float>(d * std::sin(a)));
    bodies.push_back(MakeBody(c, r, Uniform(rng, 0.02, 0.1), rng));
  }
  out->labels = DrawLabels(bodies, size, rng);
  out->num_spheroids = count;
  cv::Mat corona_mask = cv::Mat::zeros(size, CV_8U);
  FillOutline(BlobOutline(centre, corona_r, 0.12, 0.04, rng), 255, &corona_mask);
  // Cell density: patchy, thinning towards the corona's edge, cleared in gaps near the bodies.
  cv::Mat density = 0.55 + 0.35 * FractalNoise(size, corona_r / 4, 3, 0.5, rng);
  cv::Mat edge_falloff = cv::min(DistanceField(corona_mask, false) / (0.25 * corona_r), 1.0);
  density = density.mul(0.4 + 0.6 * edge_falloff);
  cv::Mat gaps = cv::Mat::zeros(size, CV_32F);
  for (const Body& b : bodies) {
    cv::circle(gaps, b.centre, cvRound(b.radius * Uniform(rng, 1.1, 1.5)), 1.0, cv::FILLED);
  }
  cv::GaussianBlur(gaps, gaps, cv::Size(), corona_r * 0.05);
  density = density.mul(1.0 - 0.85 * gaps);
  // Dispersed single cells are a few pixels wide whatever the corona's size.
  const double cell = std::max(1.5, 2.2 * side / 512.0);
  const cv::Mat cells = FractalNoise(size, cell, 2, 0.4, rng);
  cv::Mat cell_mask;
  cv::threshold(cells - (1.0 - 2.0 * density), cell_mask, 0, 1, cv::THRESH_BINARY);
  cv::Mat corona_f;
  corona_mask.convertTo(corona_f, CV_32F, 1.0 / 255.0);
  cv::Mat t = 1.0 - Uniform(rng, 0.25, 0.45) * cell_mask.mul(corona_f).mul(0.6 + 0.4 * cells);
  cv::GaussianBlur(t, t, cv::Size(), 0.6);
  t = t.mul(DarkBodyTransmission(bodies, out->labels, rng));
  synthetic::DrawSpecks(&t, static_cast<int>(Uniform(rng, 5, 30) * o.clutter), 1, 4 * side / 512,
                        0.4, 0.9, rng);
  if (Uniform(rng, 0, 1) < 0.5 * o.clutter) synthetic::DrawFibre(&t, rng);
  if (o.corona_in_mask) out->labels.setTo(count + 1, (corona_mask != 0) & (out->labels == 0));
  if (o.corona_in_mask) out->num_spheroids = count + 1;
  cv::Mat field = t.mul(Illumination(size, Uniform(rng, 0.03, 0.15), Uniform(rng, 0.05, 0.3), rng));
  cv::Mat intensity = field * Uniform(rng, 215, 240);
  cv::GaussianBlur(intensity, intensity, cv::Size(), Uniform(rng, 0.4, 0.8));
  return intensity;
}

}  // namespace

std::string_view SpheroidStyleName(SpheroidStyle style) {
  switch (style) {
    case SpheroidStyle::kBrightField:
      return "bright_field";
    case SpheroidStyle::kDisintegrating:
      return "disintegrating";
    case SpheroidStyle::kDarkBackground:
      return "dark_background";
    case SpheroidStyle::kIncuCyte:
      return "incucyte";
  }
  return "unknown";
}

Result<SpheroidStyle> ParseSpheroidStyle(std::string_view name) {
  for (SpheroidStyle style : kAllSpheroidStyles) {
    if (SpheroidStyleName(style) == name) return style;
  }
  return InvalidArgument("unknown spheroid style '" + std::string(name) +
                         "' (bright_field, disintegrating, dark_background, incucyte)");
}

Result<SyntheticSpheroid> GenerateSyntheticSpheroid(uint64_t seed,
                                                    const SyntheticSpheroidOptions& options) {
  if (options.width < 64 || options.height < 64 || options.width > 8192 || options.height > 8192) {
    return InvalidArgument("synthetic image size must be 64..8192 px per side");
  }
  if (!(options.min_radius_fraction > 0) || options.max_radius_fraction > 0.5 ||
      options.min_radius_fraction > options.max_radius_fraction) {
    return InvalidArgument("radius fractions must satisfy 0 < min <= max <= 0.5");
  }
  // cv::RNG takes 64 bits of state; 0 is remapped by OpenCV, so mix the seed first.
  cv::RNG rng(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull);
  SyntheticSpheroid out;
  out.style = options.style;
  cv::Mat intensity;
  try {
    switch (options.style) {
      case SpheroidStyle::kBrightField:
        intensity = RenderBrightField(options, rng, &out);
        break;
      case SpheroidStyle::kDisintegrating:
        intensity = RenderDisintegrating(options, rng, &out);
        break;
      case SpheroidStyle::kDarkBackground:
        intensity = synthetic::RenderDarkBackground(options, rng, &out);
        break;
      case SpheroidStyle::kIncuCyte:
        intensity = synthetic::RenderIncuCyte(options, rng, &out);
        break;
    }
    out.image = synthetic::FinishImage(intensity, options.noise_sigma, options.rgb, rng);
  } catch (const cv::Exception& e) {
    return Internal(std::string("synthetic spheroid rendering failed: ") + e.what());
  }
  out.mask = out.labels != 0;
  return out;
}

}  // namespace seghub::imaging
