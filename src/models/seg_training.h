// Training and evaluation of 2-D segmentation networks (any BuildNetwork architecture with one
// output channel) for `seghub train --task segmentation`.
//
// Data: either synthetic spheroids (imaging::GenerateSyntheticSpheroid, generated on the fly) or a
// folder with images/ and masks/ (same file stem; any non-zero mask pixel is foreground). Every
// sample goes through AugmentPair (training only) and then the Hub's own imaging::Preprocess
// (stretch to input_size x input_size, ImageNet normalisation), so the network is trained on
// exactly what the server feeds it. Synthetic training seeds are
// 1 + seed * 10^8 + global sample index (deterministic per epoch and --seed); validation seeds
// start at kSegValidationSeedBase, far above any training seed. A folder dataset holds out every
// `val_every`-th file (sorted by name) for validation.
//
// Loss: BCE-with-logits (optionally weighted per pixel) + soft Dice (logits bilinearly resized to
// the target when a network's output size differs, e.g. HRNet on sizes not divisible by 4).
// Optimiser: Adam. Validation after every epoch: foreground Dice of (sigmoid > threshold), the
// probability map resized back to the original image size as the server does, averaged over the
// held-out images.
//
// Checkpoints in out_dir: best.safetensors (best validation Dice), last.safetensors,
// optimizer.pt (Adam state, torch::save) and state.json (epoch, best Dice, history, options).
// resume continues from them. Threading: single caller thread; LibTorch intra-op threads as set
// by the caller (at::set_num_threads).
#ifndef SEGHUB_MODELS_SEG_TRAINING_H_
#define SEGHUB_MODELS_SEG_TRAINING_H_

#include <torch/optim/adam.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "models/augment.h"
#include "models/lr_schedule.h"
#include "models/network.h"
#include "models/seg_crops.h"

namespace seghub::models {

inline constexpr uint64_t kSegValidationSeedBase = 2'000'000'000;

struct SegDataOptions {
  std::filesystem::path folder;  // empty = synthetic spheroids
  int val_every = 10;            // folder: every n-th file (sorted) is held out
  // Synthetic: image height; widths vary in [0.75, 1.33] x this (real photos are not square,
  // and the stretch to the model input distorts them).
  int synthetic_size = 384;
  std::vector<std::string> styles;  // empty = all spheroid styles, cycled by seed
};

struct SegSample {
  cv::Mat image;  // CV_8UC3 RGB
  cv::Mat mask;   // CV_8UC1, 255 = foreground
};

// A training sample (index counts samples since the start of training) or a held-out one.
// Folder datasets are read once on first use per call; callers loop over indices.
class SegDataset {
 public:
  static Result<SegDataset> Open(const SegDataOptions& options, uint64_t seed);
  Result<SegSample> Train(uint64_t index) const;
  Result<SegSample> Validation(int index) const;
  // Number of held-out samples available (synthetic: unlimited, reported as -1).
  int validation_size() const;

 private:
  SegDataOptions options_;
  uint64_t seed_ = 0;
  std::vector<std::filesystem::path> train_images_, train_masks_, val_images_, val_masks_;
};

struct SegEvalOptions {
  int input_size = 256;  // stretch size (input.size of model.json)
  int images = 32;
  double threshold = 0.5;
};

struct SegEvalResult {
  int images = 0;
  double mean_dice = 0.0;    // per-image foreground Dice, averaged (empty vs empty = 1)
  double pooled_dice = 0.0;  // one Dice over all pixels of all images
};

struct SegEpochReport {
  int epoch = 0;  // 1-based
  int epochs = 0;
  double train_loss = 0.0;
  double val_dice = 0.0;
  bool best = false;
  double epoch_seconds = 0.0;
  double eta_seconds = 0.0;
};

struct SegTrainOptions {
  std::string architecture = "unet";
  nlohmann::json arch_params = nlohmann::json::object();
  std::filesystem::path init_weights;  // optional starting weights (else RandomInit(init_seed))
  // init_weights may have fewer output channels than the network (GrowOutputs): a 1-channel
  // model gains a head for cores, keeping everything it learnt.
  bool grow_outputs = false;
  uint32_t init_seed = 0;
  int input_size = 256;
  int epochs = 20;
  int steps_per_epoch = 100;
  int batch_size = 4;
  double learning_rate = 1e-3;
  LrSchedule lr_schedule = LrSchedule::kConstant;  // kCosine: learning_rate → min_learning_rate
  double min_learning_rate = 1e-5;
  double dice_weight = 1.0;
  uint64_t seed = 0;
  SegDataOptions data;
  // Non-empty crops.folders: train on native-resolution crops of labelled folders instead
  // (models/seg_crops.h; input_size is then crops.crop) and validate on whole held-out images.
  CropDataOptions crops;
  bool augment = true;
  AugmentOptions augment_options;
  int val_images = 32;
  double time_budget_s = 0.0;  // > 0: stop after the epoch that exceeds it
  std::filesystem::path out_dir;
  bool resume = false;
  std::function<void(const SegEpochReport&)> on_epoch;  // progress, on the caller's thread
  // Optional per-step progress (step within the epoch, running mean loss).
  std::function<void(int epoch, int step, double loss)> on_step;
};

// Preprocessed batch: x [N, 3, S, S] (ImageNet-normalised), y [N, 1, S, S] in [0, 1].
Result<std::pair<at::Tensor, at::Tensor>> MakeBatch(const std::vector<SegSample>& samples,
                                                    int input_size);

// BCE-with-logits + dice_weight * soft Dice over the batch, the Dice per channel then averaged
// (a small core channel weighs as much as the foreground). A defined `weight` [N, 1, H, W]
// weighs each pixel's BCE term (CropDataOptions::seam_weight); the Dice term is unweighted.
at::Tensor DiceBceLoss(const at::Tensor& logits, const at::Tensor& target, double dice_weight,
                       const at::Tensor& weight = {});

// All parameters, marked requires_grad.
std::vector<at::Tensor> TrainableParameters(NetworkSpec* net);

// One Adam step on (x, y); returns the loss before the step.
Result<double> SegTrainStep(NetworkSpec* net, torch::optim::Adam* optimizer, const at::Tensor& x,
                            const at::Tensor& y, double dice_weight, const at::Tensor& weight = {});

// Foreground Dice of `net` on the dataset's held-out samples.
Result<SegEvalResult> EvaluateSegmentation(NetworkSpec* net, const SegDataset& data,
                                           const SegEvalOptions& options);

// Foreground Dice of `net` on the crop dataset's held-out images, each run whole.
Result<SegEvalResult> EvaluateCrops(NetworkSpec* net, const CropDataset& data, double threshold);

// Trains; writes checkpoints as described above and returns the final state.json content.
Result<nlohmann::json> TrainSegmentation(const SegTrainOptions& options);

}  // namespace seghub::models

#endif  // SEGHUB_MODELS_SEG_TRAINING_H_
