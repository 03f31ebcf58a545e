// Synthetic spheroid photographs with exact ground truth, for training and testing spheroid
// models (no public spheroid ground truth can be had). Modelled on the real photos in
// ../shared/data/spheroids:
//  - kBrightField: dark spheroids on a bright, unevenly lit, vignetted background; granular
//    texture, bumpy edges of protruding cells, darker necrotic core, phase halo, loose cells,
//    debris clumps, clear vesicles, fibres, optional well rim, sometimes a touching pair.
//  - kDisintegrating: one to three dark bodies inside a wide corona of dispersed cells with clear
//    gaps (the corona is not in the mask unless `corona_in_mask`).
//  - kDarkBackground: a bright granular spheroid on a dark background with bright well-rim
//    corners and a faint ring around the spheroid (microscope TIFFs).
//  - kIncuCyte: a flat disc with embossed, pitted texture at the background's own grey level
//    inside a bright-rimmed circular well on black (IncuCyte whole-well scans).
// Rendering works in float transmission / intensity and quantises once with sensor noise.
// Deterministic: the same seed and options give the same bytes (cv::RNG, no global state).
// Pure functions; thread-safe.
#ifndef SEGHUB_IMAGING_SYNTHETIC_SPHEROIDS_H_
#define SEGHUB_IMAGING_SYNTHETIC_SPHEROIDS_H_

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace seghub::imaging {

enum class SpheroidStyle { kBrightField, kDisintegrating, kDarkBackground, kIncuCyte };

inline constexpr SpheroidStyle kAllSpheroidStyles[] = {
    SpheroidStyle::kBrightField, SpheroidStyle::kDisintegrating, SpheroidStyle::kDarkBackground,
    SpheroidStyle::kIncuCyte};

std::string_view SpheroidStyleName(SpheroidStyle style);  // "bright_field", "disintegrating", …
Result<SpheroidStyle> ParseSpheroidStyle(std::string_view name);

struct SyntheticSpheroidOptions {
  int width = 512;
  int height = 512;
  SpheroidStyle style = SpheroidStyle::kBrightField;
  bool rgb = true;  // CV_8UC3 (RGB order) or CV_8UC1
  // Spheroid radius as a fraction of min(width, height), drawn uniformly from this range.
  // IncuCyte discs and disintegrating bodies scale it (a well is larger than a field of view).
  double min_radius_fraction = 0.10;
  double max_radius_fraction = 0.22;
  double touching_pair_probability = 0.3;  // bright-field and dark-background styles
  double clutter = 1.0;                    // scales debris, vesicles and loose-cell counts
  double noise_sigma = 2.5;                // sensor noise, grey levels
  bool corona_in_mask = false;             // kDisintegrating: label the corona too
};

struct SyntheticSpheroid {
  cv::Mat image;   // CV_8UC3 RGB or CV_8UC1
  cv::Mat mask;    // CV_8UC1, 255 = spheroid
  cv::Mat labels;  // CV_32SC1, 0 = background, 1..N one per spheroid (front one wins overlaps)
  int num_spheroids = 0;
  SpheroidStyle style = SpheroidStyle::kBrightField;
};

// InvalidArgument for sizes outside 64..8192 px or radius fractions outside (0, 0.5].
Result<SyntheticSpheroid> GenerateSyntheticSpheroid(uint64_t seed,
                                                    const SyntheticSpheroidOptions& options = {});

}  // namespace seghub::imaging

#endif  // SEGHUB_IMAGING_SYNTHETIC_SPHEROIDS_H_
