// Crop-based training data for tiled segmentation models (nuclei): whole images stay at their
// native resolution and the network is trained on random crops of `crop` px, the size of the
// tiles it is later served on (model.json input.resize "tile").
//
// Folders hold images/ and either labels/ (instance ids, 16-bit PNG) or masks/ (binary; touching
// objects are then one connected component). Every image is read once at Open, adapted to the
// model's channel count and mapped to [0,1] with the same imaging::ComputeUnitMapping the serving
// path (pipeline::InputPlan) computes over the whole image, so crops and tiles see one scale.
//
// Target: foreground minus a `border_gap` px seam wherever two instances touch, so the network
// learns to leave a gap between neighbours and connected components (or a watershed) split them.
// With core_fraction > 0 a second target channel holds each instance's core (CoreTarget): the
// seeds of postprocess.instances "cores", which stay apart where touching nuclei merge.
// With seam_weight > 0 every crop also carries a per-pixel loss weight (SeamWeight, the U-Net
// paper's border weight): the narrow background between touching instances is rare but decides
// whether they come out as one object or two, so it weighs up to 1 + seam_weight.
//
// Augmentation (training only, in unit space after the mapping): zoom, flips, 90° rotations,
// gamma, contrast, brightness, blur and noise. Every held-out image (every val_every-th file of a
// folder, sorted by name) is validated whole, padded by reflection to a multiple of 32.
//
// Thread-compatible: Open builds it, then const methods may be called from one thread at a time.
#ifndef SEGHUB_MODELS_SEG_CROPS_H_
#define SEGHUB_MODELS_SEG_CROPS_H_

#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "imaging/normalize.h"

namespace seghub::models {

struct CropDataOptions {
  std::vector<std::filesystem::path> folders;
  int val_every = 10;
  int crop = 0;  // px; must be a positive multiple of 32 (0 in options = crop training off)
  int channels = 1;
  imaging::NormalizeOptions normalize;
  bool auto_invert = false;
  std::vector<float> mean, std;  // after the unit mapping; empty = none
  int border_gap = 1;
  // 0 = one target channel. Else a second one: CoreTarget(labels, core_fraction).
  double core_fraction = 0.0;
  // 0 = unweighted loss. Else SeamWeight(labels, target, seam_weight, seam_sigma) per pixel.
  double seam_weight = 0.0;
  double seam_sigma = 5.0;  // px of the source image
  // 0 = off. Else pixels of instances under small_area px weigh at least 1 + small_weight: tiny
  // nuclei are as many objects to AP as large ones but few pixels to an unweighted loss.
  double small_weight = 0.0;
  int small_area = 100;
  double min_scale = 0.6, max_scale = 1.6;  // zoom, log-uniform
};

// One image held in memory: unit-range float pixels (CV_32FC(channels)) and its target
// (CV_32FC(target channels); channel 0: 1 = foreground to learn, 0 = background or a seam between
// instances; channel 1, with cores: 1 = core).
struct CropImage {
  std::string name;
  cv::Mat unit;
  cv::Mat target;
  cv::Mat foreground;  // CV_8UC1, every labelled pixel (validation scores against this)
  cv::Mat weight;      // CV_32FC1 loss weight; empty unless seam_weight or small_weight > 0
};

class CropDataset {
 public:
  static Result<CropDataset> Open(const CropDataOptions& options);

  // Fills x [crop, crop] planes (channels * crop * crop floats, already mean/std-normalised) and
  // y (target_channels() planes of crop * crop floats) with training sample `index` of run `seed`;
  // when weighted(), also w (crop * crop floats, the sample's loss weight; else w may be null).
  Status Train(uint64_t index, uint64_t seed, float* x, float* y, float* w = nullptr) const;

  // Held-out images, whole.
  const std::vector<CropImage>& validation() const { return val_; }
  const std::vector<CropImage>& training() const { return train_; }
  const CropDataOptions& options() const { return options_; }
  int target_channels() const { return options_.core_fraction > 0 ? 2 : 1; }
  bool weighted() const { return options_.seam_weight > 0 || options_.small_weight > 0; }

  // `unit` as a [channels, H', W'] float buffer padded to multiples of 32, normalised by
  // mean/std; sets *padded to (H', W').
  std::vector<float> WholeInput(const cv::Mat& unit, cv::Size* padded) const;

 private:
  CropDataOptions options_;
  std::vector<CropImage> train_, val_;
};

// Instance labels (CV_8U/16U/32S, 0 = background; a binary mask is split into connected
// components) -> CV_32FC1 target with a `gap` px seam where different instances touch.
Result<cv::Mat> SeamTarget(const cv::Mat& labels, int gap);

// Same labels -> CV_32FC1 cores: 1 where a pixel's distance to the outside of its own instance is
// at least `fraction` x that instance's largest distance (and at least 1 px), else 0. Every
// instance keeps a core; cores of touching instances never touch. fraction in (0, 1).
Result<cv::Mat> CoreTarget(const cv::Mat& labels, double fraction);

// Same labels and their SeamTarget -> CV_32FC1 loss weight: 1 + w0 * exp(-(d1 + d2)^2 / (2
// sigma^2)) on pixels the target calls background (seams included), where d1, d2 are the
// distances to the nearest and the second-nearest instance; 1 elsewhere (inside objects, and
// background near at most one instance). w0 >= 0, sigma > 0.
Result<cv::Mat> SeamWeight(const cv::Mat& labels, const cv::Mat& target, double w0, double sigma);

// Raises `weight` (CV_32FC1, labels' size) to at least 1 + w on every pixel of an instance with
// fewer than `max_area` pixels. w >= 0.
Status WeighSmallObjects(const cv::Mat& labels, int max_area, double w, cv::Mat* weight);

}  // namespace seghub::models

#endif  // SEGHUB_MODELS_SEG_CROPS_H_
