#include "imaging/synthetic_textures.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace seghub::imaging::synthetic {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kFillShift = 4;  // cv::fillPoly sub-pixel bits

}  // namespace

double Uniform(cv::RNG& rng, double lo, double hi) { return rng.uniform(lo, hi); }

cv::Mat SmoothNoise(cv::Size size, double scale, cv::RNG& rng) {
  scale = std::max(scale, 1.0);
  const int w = std::max(2, static_cast<int>(std::ceil(size.width / scale)) + 3);
  const int h = std::max(2, static_cast<int>(std::ceil(size.height / scale)) + 3);
  cv::Mat coarse(h, w, CV_32F);
  rng.fill(coarse, cv::RNG::NORMAL, 0.0, 1.0);
  cv::Mat fine;
  // Enlarge past the target and crop so the grid phase does not line up with pixel 0.
  cv::resize(coarse, fine, cv::Size(static_cast<int>(w * scale), static_cast<int>(h * scale)), 0, 0,
             cv::INTER_CUBIC);
  const int ox = rng.uniform(0, std::max(1, fine.cols - size.width));
  const int oy = rng.uniform(0, std::max(1, fine.rows - size.height));
  cv::Mat out = fine(cv::Rect(ox, oy, size.width, size.height)).clone();
  cv::Scalar mean, stddev;
  cv::meanStdDev(out, mean, stddev);
  out = (out - mean[0]) / std::max(stddev[0], 1e-6);
  return out;
}

cv::Mat FractalNoise(cv::Size size, double scale, int octaves, double persistence, cv::RNG& rng) {
  cv::Mat sum = cv::Mat::zeros(size, CV_32F);
  double weight = 1.0;
  for (int o = 0; o < octaves; ++o) {
    sum += SmoothNoise(size, scale, rng) * weight;
    scale = std::max(1.0, scale / 2.0);
    weight *= persistence;
  }
  cv::Scalar mean, stddev;
  cv::meanStdDev(sum, mean, stddev);
  return (sum - mean[0]) / std::max(stddev[0], 1e-6);
}

cv::Mat Illumination(cv::Size size, double gradient, double vignette, cv::RNG& rng) {
  cv::Mat out(size, CV_32F);
  const double angle = Uniform(rng, 0, 2 * kPi);
  const double gx = std::cos(angle), gy = std::sin(angle);
  const double cx = size.width * Uniform(rng, 0.35, 0.65);
  const double cy = size.height * Uniform(rng, 0.35, 0.65);
  const double half_diag = 0.5 * std::hypot(size.width, size.height);
  for (int y = 0; y < size.height; ++y) {
    float* row = out.ptr<float>(y);
    for (int x = 0; x < size.width; ++x) {
      const double dx = (x - cx) / half_diag, dy = (y - cy) / half_diag;
      const double ramp = 1.0 + gradient * (dx * gx + dy * gy);
      const double r2 = dx * dx + dy * dy;
      row[x] = static_cast<float>(ramp * (1.0 - vignette * r2 * r2));
    }
  }
  return out;
}

std::vector<cv::Point2f> BlobOutline(cv::Point2f centre, double radius, double irregularity,
                                     double roughness, cv::RNG& rng) {
  struct Harmonic {
    int k;
    double amplitude, phase;
  };
  std::vector<Harmonic> harmonics;
  for (int k = 2; k <= 5; ++k) {
    harmonics.push_back({k, irregularity * Uniform(rng, 0.2, 1.0) / (k - 1), Uniform(rng, 0, 7)});
  }
  for (int k = 6; k <= 48; ++k) {
    harmonics.push_back({k, roughness * Uniform(rng, 0.0, 1.0) * 6.0 / k, Uniform(rng, 0, 7)});
  }
  const int n = std::clamp(static_cast<int>(2 * kPi * radius / 2.0), 32, 2048);
  std::vector<cv::Point2f> points(n);
  for (int i = 0; i < n; ++i) {
    const double t = 2 * kPi * i / n;
    double r = 1.0;
    for (const Harmonic& h : harmonics) r += h.amplitude * std::cos(h.k * t + h.phase);
    r = radius * std::max(r, 0.3);
    points[i] = {static_cast<float>(centre.x + r * std::cos(t)),
                 static_cast<float>(centre.y + r * std::sin(t))};
  }
  return points;
}

void FillOutline(const std::vector<cv::Point2f>& outline, double value, cv::Mat* canvas) {
  std::vector<cv::Point> fixed(outline.size());
  for (size_t i = 0; i < outline.size(); ++i) {
    fixed[i] = {cvRound(outline[i].x * (1 << kFillShift)),
                cvRound(outline[i].y * (1 << kFillShift))};
  }
  cv::fillPoly(*canvas, std::vector<std::vector<cv::Point>>{fixed}, cv::Scalar(value), cv::LINE_8,
               kFillShift);
}

cv::Mat DistanceField(const cv::Mat& mask, bool outside) {
  cv::Mat source = outside ? (mask == 0) : (mask != 0);
  cv::Mat distance;
  cv::distanceTransform(source, distance, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  return distance;
}

void DrawSpecks(cv::Mat* transmission, int count, double min_radius, double max_radius,
                double min_darkness, double max_darkness, cv::RNG& rng, const cv::Mat& region) {
  cv::Mat layer = cv::Mat::zeros(transmission->size(), CV_32F);
  for (int i = 0; i < count; ++i) {
    const cv::Point centre(rng.uniform(0, layer.cols), rng.uniform(0, layer.rows));
    if (!region.empty() && region.at<uint8_t>(centre) == 0) continue;
    const double a = Uniform(rng, min_radius, max_radius);
    const double b = a * Uniform(rng, 0.5, 1.0);
    const cv::Size axes(std::max(1, cvRound(a)), std::max(1, cvRound(b)));
    cv::ellipse(layer, centre, axes, Uniform(rng, 0, 180), 0, 360,
                Uniform(rng, min_darkness, max_darkness), cv::FILLED, cv::LINE_AA);
  }
  cv::GaussianBlur(layer, layer, cv::Size(), 0.8);
  cv::min(layer, 0.97, layer);
  cv::multiply(*transmission, 1.0 - layer, *transmission);
}

void DrawVesicle(cv::Mat* transmission, cv::Point2f centre, double radius, cv::RNG& rng) {
  cv::Mat layer = cv::Mat::zeros(transmission->size(), CV_32F);
  const cv::Point c(cvRound(centre.x), cvRound(centre.y));
  cv::circle(layer, c, cvRound(radius), -Uniform(rng, 0.03, 0.08), cv::FILLED, cv::LINE_AA);
  const int rim = std::max(1, cvRound(radius * 0.06));
  cv::circle(layer, c, cvRound(radius), Uniform(rng, 0.25, 0.45), rim, cv::LINE_AA);
  cv::circle(layer, c, cvRound(radius * 0.8), Uniform(rng, 0.05, 0.15), 1, cv::LINE_AA);
  cv::GaussianBlur(layer, layer, cv::Size(), 1.0);
  cv::multiply(*transmission, 1.0 - layer, *transmission);
}

void DrawFibre(cv::Mat* transmission, cv::RNG& rng) {
  const cv::Size size = transmission->size();
  cv::Point2f p(Uniform(rng, 0, size.width), Uniform(rng, 0, size.height));
  double heading = Uniform(rng, 0, 2 * kPi);
  const double step = std::max(size.width, size.height) / 80.0;
  std::vector<cv::Point> line;
  for (int i = 0; i < 40; ++i) {
    line.emplace_back(cvRound(p.x), cvRound(p.y));
    heading += Uniform(rng, -0.25, 0.25);
    p += cv::Point2f(static_cast<float>(step * std::cos(heading)),
                     static_cast<float>(step * std::sin(heading)));
  }
  cv::Mat layer = cv::Mat::zeros(size, CV_32F);
  const int width = std::max(1, cvRound(size.width / 400.0));
  cv::polylines(layer, line, false, 0.08, width * 12, cv::LINE_AA);  // haze beside the edge
  cv::GaussianBlur(layer, layer, cv::Size(), width * 4.0);
  cv::polylines(layer, line, false, Uniform(rng, 0.3, 0.6), width, cv::LINE_AA);
  cv::GaussianBlur(layer, layer, cv::Size(), 0.7);
  cv::multiply(*transmission, 1.0 - layer, *transmission);
}

Body MakeBody(cv::Point2f centre, double radius, double irregularity, cv::RNG& rng) {
  Body body;
  body.centre = centre;
  body.radius = radius;
  body.cell_radius = std::max(1.5, radius * Uniform(rng, 0.035, 0.06));
  body.outline = BlobOutline(centre, radius, irregularity, body.cell_radius / radius * 0.4, rng);
  return body;
}

// Draws the body into `labels` as `label`, with cells bulging out of its edge: real spheroid
// edges are bumpy at the scale of single cells, and those cells belong to the spheroid.
void DrawBody(const Body& body, int label, cv::RNG& rng, cv::Mat* labels) {
  FillOutline(body.outline, label, labels);
  const int bumps = static_cast<int>(body.outline.size() * Uniform(rng, 0.05, 0.15));
  for (int i = 0; i < bumps; ++i) {
    const cv::Point2f p = body.outline[rng.uniform(0, static_cast<int>(body.outline.size()))];
    const cv::Point2f out = p - body.centre;
    const double norm = std::max(1e-3, static_cast<double>(std::hypot(out.x, out.y)));
    const double push = body.cell_radius * Uniform(rng, 0.0, 0.7) / norm;
    const cv::Point c(cvRound(p.x + out.x * push), cvRound(p.y + out.y * push));
    cv::circle(*labels, c, std::max(1, cvRound(body.cell_radius * Uniform(rng, 0.6, 1.2))), label,
               cv::FILLED);
  }
}

namespace {

// How far the outline reaches from its centre along `direction` (outline points within ~10° of
// it): the harmonics make this differ from the nominal radius by up to ~20 %.
double ReachAlong(const Body& body, cv::Point2f direction) {
  double reach = 0;
  for (const cv::Point2f& p : body.outline) {
    const cv::Point2f v = p - body.centre;
    const double len = std::hypot(static_cast<double>(v.x), static_cast<double>(v.y));
    if (len > 0 && v.dot(direction) > 0.985 * len) reach = std::max(reach, len);
  }
  return reach > 0 ? reach : body.radius;
}

}  // namespace

std::vector<Body> PlaceBodies(cv::Size size, double r_min, double r_max, double pair_probability,
                              cv::RNG& rng) {
  const double side = std::min(size.width, size.height);
  const double r = side * Uniform(rng, r_min, r_max);
  const bool pair = Uniform(rng, 0, 1) < pair_probability;
  const double r2 = pair ? r * Uniform(rng, 0.5, 0.95) : 0;
  const double angle = Uniform(rng, 0, 2 * kPi);
  const cv::Point2f u(static_cast<float>(std::cos(angle)), static_cast<float>(std::sin(angle)));
  // The pair's (or the single body's) middle lands inside the frame with a margin.
  const double extent = pair ? r + r2 : r;
  const double mx = std::max(0.0, size.width / 2.0 - extent * 1.05);
  const double my = std::max(0.0, size.height / 2.0 - extent * 1.05);
  const cv::Point2f mid(static_cast<float>(size.width / 2.0 + Uniform(rng, -mx, mx + 1e-9)),
                        static_cast<float>(size.height / 2.0 + Uniform(rng, -my, my + 1e-9)));
  const double irregularity = Uniform(rng, 0.01, 0.08);
  std::vector<Body> bodies;
  if (!pair) {
    bodies.push_back(MakeBody(mid, r, irregularity, rng));
    return bodies;
  }
  const float w1 = static_cast<float>(r2 / (r + r2));  // keeps the pair centred on `mid`
  bodies.push_back(MakeBody(mid - u * static_cast<float>(w1 * (r + r2)), r, irregularity, rng));
  Body second = MakeBody(mid + u * static_cast<float>((1 - w1) * (r + r2)), r2, irregularity, rng);
  // Slide the second body along the axis until the outlines overlap by 3-12 % of its radius:
  // a touching pair, whatever the harmonics did to the nominal radii.
  const double reach = ReachAlong(bodies[0], u) + ReachAlong(second, -u);
  const double wanted = reach - r2 * Uniform(rng, 0.03, 0.12);
  const cv::Point2f shift = u * static_cast<float>(wanted - (r + r2));
  second.centre += shift;
  for (cv::Point2f& p : second.outline) p += shift;
  bodies.push_back(std::move(second));
  return bodies;
}

cv::Mat DrawLabels(const std::vector<Body>& bodies, cv::Size size, cv::RNG& rng) {
  cv::Mat labels = cv::Mat::zeros(size, CV_32S);
  for (size_t i = 0; i < bodies.size(); ++i)
    DrawBody(bodies[i], static_cast<int>(i) + 1, rng, &labels);
  return labels;
}

cv::Mat FinishImage(const cv::Mat& intensity, double noise_sigma, bool rgb, cv::RNG& rng) {
  cv::Mat noisy = intensity.clone();
  cv::Mat noise(intensity.size(), CV_32F);
  rng.fill(noise, cv::RNG::NORMAL, 0.0, noise_sigma);
  noisy += noise;
  if (!rgb) {
    cv::Mat out;
    noisy.convertTo(out, CV_8U);  // saturating
    return out;
  }
  // Bright-field cameras give near-grey RGB; a slight tint keeps models colour-agnostic.
  std::vector<cv::Mat> channels(3);
  for (int c = 0; c < 3; ++c) {
    noisy.convertTo(channels[c], CV_8U, Uniform(rng, 0.96, 1.04), Uniform(rng, -3, 3));
  }
  cv::Mat out;
  cv::merge(channels, out);
  return out;
}

}  // namespace seghub::imaging::synthetic
