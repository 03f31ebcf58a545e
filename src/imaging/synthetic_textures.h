// Building blocks of the synthetic spheroid generator (synthetic_spheroids.h): random fields,
// outlines and small optical features. Internal to seghub_imaging; not a stable API.
// Every function draws only from the cv::RNG it is given (deterministic for a seed); fields are
// CV_32FC1. Thread-compatible: one RNG per thread.
#ifndef SEGHUB_IMAGING_SYNTHETIC_TEXTURES_H_
#define SEGHUB_IMAGING_SYNTHETIC_TEXTURES_H_

#include <opencv2/core.hpp>
#include <vector>

#include "imaging/synthetic_spheroids.h"

namespace seghub::imaging::synthetic {

double Uniform(cv::RNG& rng, double lo, double hi);

// Zero-mean, unit-variance noise with features about `scale` px wide: white noise on a grid
// `scale` times coarser, bicubically enlarged (fast for any scale, unlike a wide blur).
cv::Mat SmoothNoise(cv::Size size, double scale, cv::RNG& rng);

// Sum of `octaves` SmoothNoise layers, each half the scale and `persistence` times the weight of
// the previous; renormalised to unit variance.
cv::Mat FractalNoise(cv::Size size, double scale, int octaves, double persistence, cv::RNG& rng);

// Multiplicative illumination around 1: a linear gradient of relative strength `gradient` in a
// random direction times a radial vignette that darkens the corners by `vignette`.
cv::Mat Illumination(cv::Size size, double gradient, double vignette, cv::RNG& rng);

// A closed blob outline: radius · (1 + Σ harmonics) with low-order irregularity (k = 2..5,
// amplitude ~`irregularity`) and fine roughness (k up to 48, amplitude ~`roughness`).
std::vector<cv::Point2f> BlobOutline(cv::Point2f centre, double radius, double irregularity,
                                     double roughness, cv::RNG& rng);

// Fills `outline` into `canvas` (CV_8UC1 or CV_32SC1) with `value`, with 1/16 px precision.
void FillOutline(const std::vector<cv::Point2f>& outline, double value, cv::Mat* canvas);

// Euclidean distance (px) to the nearest pixel outside `mask` (inside distance) or, with
// `outside` = true, to the nearest pixel inside it.
cv::Mat DistanceField(const cv::Mat& mask, bool outside);

// Multiplies `transmission` by (1 - darkness) on small soft ellipses: debris, loose cells.
void DrawSpecks(cv::Mat* transmission, int count, double min_radius, double max_radius,
                double min_darkness, double max_darkness, cv::RNG& rng,
                const cv::Mat& region = cv::Mat());

// A clear vesicle: thin dark refractive rim with a slightly bright interior.
void DrawVesicle(cv::Mat* transmission, cv::Point2f centre, double radius, cv::RNG& rng);

// A faint curved fibre or membrane edge (thin dark polyline with a haze beside it).
void DrawFibre(cv::Mat* transmission, cv::RNG& rng);

// Converts a float image (0..255 scale) to 8-bit with sensor noise of `noise_sigma` grey levels,
// as grey or as near-grey RGB with a slight random tint.
cv::Mat FinishImage(const cv::Mat& intensity, double noise_sigma, bool rgb, cv::RNG& rng);

// A spheroid (or a disintegrating body): outline plus the cell size of its texture.
struct Body {
  cv::Point2f centre;
  double radius = 0;
  double cell_radius = 0;  // size of the cells that make up its texture and edge
  std::vector<cv::Point2f> outline;
};

Body MakeBody(cv::Point2f centre, double radius, double irregularity, cv::RNG& rng);

// Draws the body into `labels` (CV_32SC1) as `label`, with single cells bulging out of the edge.
void DrawBody(const Body& body, int label, cv::RNG& rng, cv::Mat* labels);

// One spheroid, or with `pair_probability` two that touch (overlapping by a few percent), with
// radii r_min..r_max × min(width, height), inside the frame.
std::vector<Body> PlaceBodies(cv::Size size, double r_min, double r_max, double pair_probability,
                              cv::RNG& rng);

// CV_32SC1 labels 1..N in body order (later bodies on top).
cv::Mat DrawLabels(const std::vector<Body>& bodies, cv::Size size, cv::RNG& rng);

// Styles rendered in synthetic_spheroids_wells.cc: return the float intensity (0..255 scale)
// and fill out->labels / out->num_spheroids.
cv::Mat RenderDarkBackground(const SyntheticSpheroidOptions& o, cv::RNG& rng,
                             SyntheticSpheroid* out);
cv::Mat RenderIncuCyte(const SyntheticSpheroidOptions& o, cv::RNG& rng, SyntheticSpheroid* out);

}  // namespace seghub::imaging::synthetic

#endif  // SEGHUB_IMAGING_SYNTHETIC_TEXTURES_H_
