// InputPlan: how one decoded image becomes model inputs, and how the outputs become one
// probability map at the image's own size, following the model's `input.resize` (model.json):
//
//   "stretch"  the Hub's way: squash to input.size (Pillow bilinear), ImageNet-normalise, one
//              input; the output plane is resized back (bilinear) to the original size.
//   "tile"     tiles of input.tile px overlapping by input.tile_overlap; each tile is an input;
//              outputs are blended with raised-cosine weights so no seam shows (imaging/tiling.h).
//              input.flips > 1 adds mirrored (and with 8, transposed) copies of every tile
//              (input index = tile * flips + variant); their outputs are turned back and blended
//              like overlaps.
//              Large images never exist as one float tensor: tiles are cut from the source on
//              demand, so an 8,000 x 8,000 image costs its 8-bit pixels plus a few tiles.
//   "none"     the whole image, padded by reflection to a multiple of 32, as one input.
//
// Intensities: 8-bit data is v/255 (the Hub's ToTensor); 16-bit and float data is scaled by the
// 1st..99.8th percentiles of the whole image (computed once, so every tile sees the same scale);
// input.normalize "percentile" does so for 8-bit too, and input.invert "auto" flips
// bright-background images (imaging::ComputeUnitMapping).
//
// An InputPlan is immutable after Create and thread-safe to read (MakeInput may run on several
// threads). An OutputAssembler is thread-compatible: the caller serialises Add/Finish.
#ifndef SEGHUB_PIPELINE_INPUT_PLAN_H_
#define SEGHUB_PIPELINE_INPUT_PLAN_H_

#include <opencv2/core.hpp>
#include <optional>
#include <vector>

#include "common/status.h"
#include "engine/model_config.h"
#include "engine/tensor.h"
#include "imaging/normalize.h"
#include "imaging/tiling.h"

namespace seghub::pipeline {

enum class InputMode { kStretch, kTile, kWhole };

class InputPlan {
 public:
  // `pixels`: decoded RGB/grey image (CV_8U, CV_16U or CV_32F; 1 or 3 channels). Shares the
  // pixel buffer (cv::Mat is reference-counted); the caller must not modify it afterwards.
  static Result<InputPlan> Create(const cv::Mat& pixels, const engine::ModelConfig& config);

  InputMode mode() const { return mode_; }
  cv::Size image_size() const { return image_size_; }
  size_t size() const { return items_.size() * flips_; }  // number of model inputs
  // Model input `index` as a [C, H, W] tensor. Pure; thread-safe.
  Result<engine::Tensor> MakeInput(size_t index) const;
  // Image region of model input `index`.
  const cv::Rect& region(size_t index) const { return items_[index / flips_]; }
  // Input `index`'s variant of a square tile-sized plane (mirrored and/or transposed per
  // input.flips), and the inverse that turns its output back. In-place; any thread.
  void Orient(size_t index, cv::Mat* m) const;
  void Unorient(size_t index, cv::Mat* m) const;
  const engine::ModelConfig& config() const { return config_; }
  imaging::TilingOptions tiling() const { return tiling_; }
  // Releases the source pixels once every input has been made.
  void ReleaseSource() { source_.release(); }

 private:
  InputPlan() = default;
  // The source region `rect` (clipped/padded as the mode requires) as unit-range float.
  Result<cv::Mat> UnitRegion(const cv::Rect& rect, cv::Size out_size) const;

  InputMode mode_ = InputMode::kWhole;
  engine::ModelConfig config_;
  cv::Mat source_;  // channel-adapted source pixels (original depth)
  cv::Size image_size_;
  imaging::TilingOptions tiling_;
  std::vector<cv::Rect> items_;  // image region of each tile (or the one input)
  size_t flips_ = 1;             // model inputs per item (input.flips)
  imaging::UnitMapping unit_;    // source values to [0,1] (whole image, so tiles agree)
};

// Collects model outputs (first channel = foreground logit or probability) into the probability
// map. Activation per model.json output.activation; "auto" decides per input, as the Hub decides
// per batch. With postprocess.instances "cores" the second channel (the cores) is assembled the
// same way, into a second plane of the map.
class OutputAssembler {
 public:
  static Result<OutputAssembler> Create(const InputPlan& plan);
  // `output` for input `index`: [C', H, W] with H, W of the model input.
  Status Add(const InputPlan& plan, size_t index, const engine::Tensor& output);
  // CV_32FC(planes()) probabilities at the image size; error if some input is missing.
  Result<cv::Mat> Finish(const InputPlan& plan);
  int planes() const { return planes_; }

 private:
  OutputAssembler() = default;
  int planes_ = 1;
  std::optional<imaging::TileBlender> blender_;  // tile mode
  cv::Mat single_;                               // stretch / whole mode result
  size_t added_ = 0;
};

}  // namespace seghub::pipeline

#endif  // SEGHUB_PIPELINE_INPUT_PLAN_H_
