// Styles whose look is set by the well rather than by transmitted light: bright spheroids on a
// dark background (microscope exports) and IncuCyte whole-well scans.
#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "imaging/synthetic_textures.h"

namespace seghub::imaging::synthetic {
namespace {

constexpr double kPi = 3.14159265358979323846;

cv::Mat SoftMask(const cv::Mat& labels, double sigma) {
  cv::Mat alpha;
  cv::Mat(labels != 0).convertTo(alpha, CV_32F, 1.0 / 255.0);
  cv::GaussianBlur(alpha, alpha, cv::Size(), sigma);
  return alpha;
}

// Relief ("embossed") rendering of a height field, as the IncuCyte's phase-like optics show
// cells: a bright and a dark flank on opposite sides of every feature.
cv::Mat Relief(const cv::Mat& height, double angle) {
  cv::Mat gx, gy;
  cv::Sobel(height, gx, CV_32F, 1, 0, 3);
  cv::Sobel(height, gy, CV_32F, 0, 1, 3);
  return gx * std::cos(angle) + gy * std::sin(angle);
}

// Dark floor, the bright well wall in the corners with a rim line on it, and a faint broken
// ring around the spheroid (the well bottom's meniscus).
cv::Mat DarkWellBackground(cv::Size size, const Body& first, cv::RNG& rng) {
  const double diag = std::hypot(size.width, size.height);
  cv::Mat bg(size, CV_32F, cv::Scalar(Uniform(rng, 22, 50)));
  const cv::Point2f well_centre(static_cast<float>(size.width * Uniform(rng, 0.42, 0.58)),
                                static_cast<float>(size.height * Uniform(rng, 0.42, 0.58)));
  const int well_r = cvRound(diag * Uniform(rng, 0.36, 0.47));
  cv::Mat wall(size, CV_32F, cv::Scalar(1.0));
  cv::circle(wall, well_centre, well_r, 0.0, cv::FILLED, cv::LINE_AA);
  cv::GaussianBlur(wall, wall, cv::Size(), diag * Uniform(rng, 0.03, 0.07));
  bg += wall * Uniform(rng, 110, 200);
  cv::Mat rim = cv::Mat::zeros(size, CV_32F);
  cv::circle(rim, well_centre, cvRound(well_r * 1.03), Uniform(rng, 40, 90),
             std::max(1, cvRound(diag * 0.002)), cv::LINE_AA);
  cv::GaussianBlur(rim, rim, cv::Size(), 1.5);
  bg += rim;
  cv::Mat ring = cv::Mat::zeros(size, CV_32F);
  const int ring_r = cvRound(first.radius * Uniform(rng, 1.2, 1.6));
  const double start = Uniform(rng, 0, 360);
  cv::ellipse(ring, first.centre, cv::Size(ring_r, cvRound(ring_r * Uniform(rng, 0.9, 1.1))), 0,
              start, start + Uniform(rng, 120, 320), Uniform(rng, 8, 25),
              std::max(1, cvRound(diag / 900)), cv::LINE_AA);
  cv::GaussianBlur(ring, ring, cv::Size(), 1.5);
  bg += ring;
  bg = bg.mul(1.0 + 0.06 * FractalNoise(size, size.width / 10.0, 3, 0.5, rng));
  return bg;
}

// Flat grey inside the well with faint stitching tiles and fine texture; black outside with the
// bright double rim's glow fading out. `well` receives the well's mask.
cv::Mat IncuCyteWell(cv::Size size, cv::Point2f well_centre, double well_r, cv::RNG& rng,
                     cv::Mat* well) {
  const double side = std::min(size.width, size.height);
  const double s = side / 512.0;
  const double level = Uniform(rng, 115, 140);
  cv::Mat bg(size, CV_32F, cv::Scalar(level));
  const int tile = std::max(8, cvRound(side / Uniform(rng, 4, 7)));
  for (int y = 0; y < size.height; y += tile) {
    for (int x = 0; x < size.width; x += tile) {
      const cv::Rect r = cv::Rect(x, y, tile, tile) & cv::Rect(0, 0, size.width, size.height);
      bg(r) += Uniform(rng, -1.5, 1.5);
    }
  }
  bg += 1.5 * FractalNoise(size, 2.5 * s, 2, 0.5, rng);
  *well = cv::Mat::zeros(size, CV_8U);
  cv::circle(*well, well_centre, cvRound(well_r), 255, cv::FILLED, cv::LINE_AA);
  cv::Mat glow;
  cv::exp(-DistanceField(*well, true) / (0.015 * side), glow);
  cv::Mat outside = 6.0 + glow * Uniform(rng, 50, 90);
  cv::Mat inside_f;
  well->convertTo(inside_f, CV_32F, 1.0 / 255.0);
  cv::Mat intensity = bg.mul(inside_f) + outside.mul(1.0 - inside_f);
  cv::Mat rim = cv::Mat::zeros(size, CV_32F);
  cv::circle(rim, well_centre, cvRound(well_r), 1.0, std::max(1, cvRound(2.5 * s)), cv::LINE_AA);
  cv::circle(rim, well_centre, cvRound(well_r - 5 * s), 0.6, std::max(1, cvRound(s)), cv::LINE_AA);
  cv::GaussianBlur(rim, rim, cv::Size(), 0.8);
  intensity = intensity.mul(1.0 - rim) + rim * Uniform(rng, 210, 245);
  return intensity;
}

}  // namespace

cv::Mat RenderDarkBackground(const SyntheticSpheroidOptions& o, cv::RNG& rng,
                             SyntheticSpheroid* out) {
  const cv::Size size(o.width, o.height);
  const std::vector<Body> bodies = PlaceBodies(size, o.min_radius_fraction, o.max_radius_fraction,
                                               o.touching_pair_probability * 0.5, rng);
  out->labels = DrawLabels(bodies, size, rng);
  out->num_spheroids = static_cast<int>(bodies.size());
  const cv::Mat bg = DarkWellBackground(size, bodies.front(), rng);
  // Bright granular spheroid, a little dimmer at its edge.
  const cv::Mat inside = DistanceField(out->labels != 0, false);
  cv::Mat body(size, CV_32F, cv::Scalar(0));
  for (const Body& b : bodies) {
    const cv::Mat grain = FractalNoise(size, b.cell_radius * 0.8, 3, 0.6, rng);
    const cv::Mat edge = 0.72 + 0.28 * cv::min(inside / (0.15 * b.radius), 1.0);
    cv::Mat v = Uniform(rng, 140, 205) * edge.mul(1.0 + Uniform(rng, 0.1, 0.18) * grain);
    cv::Mat region = cv::Mat::zeros(size, CV_8U);
    cv::circle(region, b.centre, cvRound(b.radius * 1.5), 255, cv::FILLED);
    v.copyTo(body, region);
  }
  cv::Mat dark_specks(size, CV_32F, cv::Scalar(1.0));
  DrawSpecks(&dark_specks, static_cast<int>(Uniform(rng, 0, 12) * o.clutter), 1, 3, 0.4, 0.9, rng,
             out->labels != 0);
  body = body.mul(dark_specks);
  const cv::Mat alpha = SoftMask(out->labels, Uniform(rng, 0.8, 1.6));
  cv::Mat intensity = bg.mul(1.0 - alpha) + body.mul(alpha);
  cv::Mat bright_specks(size, CV_32F, cv::Scalar(1.0));
  DrawSpecks(&bright_specks, static_cast<int>(Uniform(rng, 5, 40) * o.clutter), 1, 3, 0.2, 0.6,
             rng);
  intensity += (1.0 - bright_specks) * 80;  // dust shines on a dark background
  intensity = intensity.mul(Illumination(size, Uniform(rng, 0.02, 0.12), 0.0, rng));
  cv::GaussianBlur(intensity, intensity, cv::Size(), Uniform(rng, 0.5, 1.0));
  return intensity;
}

cv::Mat RenderIncuCyte(const SyntheticSpheroidOptions& o, cv::RNG& rng, SyntheticSpheroid* out) {
  const cv::Size size(o.width, o.height);
  const double side = std::min(o.width, o.height);
  const double s = side / 512.0;
  const cv::Point2f well_centre(
      static_cast<float>(o.width / 2.0 + Uniform(rng, -0.01, 0.01) * side),
      static_cast<float>(o.height / 2.0 + Uniform(rng, -0.01, 0.01) * side));
  const double well_r = side * Uniform(rng, 0.44, 0.485);
  cv::Mat well;
  cv::Mat intensity = IncuCyteWell(size, well_centre, well_r, rng, &well);
  // The disc: radius from the options, kept inside the well.
  const double r =
      std::min(side * Uniform(rng, o.min_radius_fraction, o.max_radius_fraction), well_r * 0.8);
  const double a = Uniform(rng, 0, 2 * kPi), d = Uniform(rng, 0, std::max(0.0, well_r - 1.15 * r));
  const Body body = MakeBody(well_centre + cv::Point2f(static_cast<float>(d * std::cos(a)),
                                                       static_cast<float>(d * std::sin(a))),
                             r, Uniform(rng, 0.02, 0.1), rng);
  out->labels = cv::Mat::zeros(size, CV_32S);
  FillOutline(body.outline, 1, &out->labels);  // flat discs have smooth edges: no bulging cells
  out->num_spheroids = 1;
  // Pits (cells seen edge-on) of varying density, embossed; the disc edge embossed as well.
  cv::Mat pits = cv::Mat::zeros(size, CV_32F);
  const int count = static_cast<int>(kPi * r * r / (40 * s * s) * Uniform(rng, 0.5, 1.2));
  for (int i = 0; i < count; ++i) {
    const cv::Point c(cvRound(body.centre.x + Uniform(rng, -r, r)),
                      cvRound(body.centre.y + Uniform(rng, -r, r)));
    cv::circle(pits, c, std::max(1, cvRound(Uniform(rng, 0.8, 2.2) * s)), Uniform(rng, 0.5, 1),
               cv::FILLED, cv::LINE_AA);
  }
  const cv::Mat density = cv::max(0.2 + 0.5 * SmoothNoise(size, r / 2, rng), 0.05);
  cv::GaussianBlur(pits, pits, cv::Size(), 0.7 * s);
  pits = pits.mul(density) + 0.12 * FractalNoise(size, 1.5 * s, 2, 0.5, rng);
  const double light = Uniform(rng, 0, 2 * kPi);
  const cv::Mat alpha = SoftMask(out->labels, 1.0 * s);
  cv::Mat texture = Relief(pits, light) * Uniform(rng, 14, 24) + Uniform(rng, -3, 5);
  intensity += texture.mul(alpha) + Relief(alpha, light) * Uniform(rng, 4, 10);
  cv::Mat specks(size, CV_32F, cv::Scalar(1.0));
  DrawSpecks(&specks, static_cast<int>(Uniform(rng, 3, 25) * o.clutter), 1.5 * s, 5 * s, 0.3, 1,
             rng, well);
  intensity += Relief(1.0 - specks, light + 0.3) * 10;
  return intensity;
}

}  // namespace seghub::imaging::synthetic
