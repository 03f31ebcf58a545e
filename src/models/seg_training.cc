#include "models/seg_training.h"

#include <torch/serialize.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "imaging/preprocess.h"
#include "imaging/synthetic_spheroids.h"
#include "models/checkpoint.h"
#include "models/seg_files.h"

namespace seghub::models {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr uint64_t kSeedStride = 100'000'000;

Result<SegSample> ReadPair(const fs::path& image_path, const fs::path& mask_path) {
  SegSample s;
  cv::Mat bgr = cv::imread(image_path.string(), cv::IMREAD_COLOR);
  if (bgr.empty()) return InvalidArgument("cannot read image " + image_path.string());
  cv::cvtColor(bgr, s.image, cv::COLOR_BGR2RGB);
  // Label images (16-bit instance ids) and binary masks alike: non-zero = foreground.
  cv::Mat m = cv::imread(mask_path.string(), cv::IMREAD_UNCHANGED);
  if (m.empty()) return InvalidArgument("cannot read mask " + mask_path.string());
  if (m.channels() > 1) cv::cvtColor(m, m, cv::COLOR_BGR2GRAY);
  if (m.size() != s.image.size()) {
    return InvalidArgument("mask size differs from image: " + mask_path.string());
  }
  s.mask = m != 0;
  return s;
}

Result<SegSample> Synthetic(const SegDataOptions& o, uint64_t seed) {
  imaging::SyntheticSpheroidOptions g;
  g.height = o.synthetic_size;
  cv::RNG rng(seed ^ 0x5eedULL);
  g.width = std::max(64, static_cast<int>(o.synthetic_size * std::exp(rng.uniform(-0.29, 0.29))));
  if (o.styles.empty()) {
    g.style = imaging::kAllSpheroidStyles[seed % std::size(imaging::kAllSpheroidStyles)];
  } else {
    SEGHUB_ASSIGN_OR_RETURN(g.style, imaging::ParseSpheroidStyle(o.styles[seed % o.styles.size()]));
  }
  SEGHUB_ASSIGN_OR_RETURN(imaging::SyntheticSpheroid s,
                          imaging::GenerateSyntheticSpheroid(seed, g));
  return SegSample{std::move(s.image), std::move(s.mask)};
}

Status WriteJson(const fs::path& path, const nlohmann::json& j) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << j.dump(2) << "\n";
    if (!out) return Internal("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);  // atomic: a crash never leaves a torn state file
  if (ec) return Internal("cannot rename " + tmp.string() + ": " + ec.message());
  return Status::Ok();
}

std::map<std::string, std::string> Metadata(const SegTrainOptions& o, int epoch, double dice) {
  return {{"architecture", o.architecture},
          {"arch_params", o.arch_params.dump()},
          {"input_size", std::to_string(o.input_size)},
          {"epoch", std::to_string(epoch)},
          {"val_dice", std::to_string(dice)},
          {"trainer", "seghub train --task segmentation"}};
}

}  // namespace

Result<SegDataset> SegDataset::Open(const SegDataOptions& options, uint64_t seed) {
  SegDataset d;
  d.options_ = options;
  d.seed_ = seed;
  if (options.synthetic_size < 64) return InvalidArgument("synthetic size must be >= 64");
  if (options.folder.empty()) return d;
  const fs::path images = options.folder / "images", masks = options.folder / "masks";
  if (!fs::is_directory(images) || !fs::is_directory(masks)) {
    return InvalidArgument(options.folder.string() + " needs images/ and masks/ folders");
  }
  SEGHUB_ASSIGN_OR_RETURN(const std::vector<LabelledFile> files, ListLabelledFiles(images, masks));
  const int every = std::max(2, options.val_every);
  for (size_t i = 0; i < files.size(); ++i) {
    const bool held_out = IsHeldOut(i, every);
    (held_out ? d.val_images_ : d.train_images_).push_back(files[i].image);
    (held_out ? d.val_masks_ : d.train_masks_).push_back(files[i].label);
  }
  if (d.train_images_.empty() || d.val_images_.empty()) {
    return InvalidArgument("folder dataset needs at least " + std::to_string(every) + " pairs");
  }
  return d;
}

Result<SegSample> SegDataset::Train(uint64_t index) const {
  if (options_.folder.empty()) return Synthetic(options_, 1 + seed_ * kSeedStride + index);
  // A fixed permutation per pass over the files (seeded), so epochs see every file.
  const uint64_t n = train_images_.size();
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  cv::RNG rng(seed_ * 7919 + index / n);
  for (size_t i = n; i > 1; --i)
    std::swap(order[i - 1], order[rng.uniform(0, static_cast<int>(i))]);
  const size_t k = order[index % n];
  return ReadPair(train_images_[k], train_masks_[k]);
}

Result<SegSample> SegDataset::Validation(int index) const {
  if (options_.folder.empty()) return Synthetic(options_, kSegValidationSeedBase + index);
  if (index < 0 || index >= static_cast<int>(val_images_.size())) {
    return OutOfRange("validation index out of range");
  }
  return ReadPair(val_images_[index], val_masks_[index]);
}

int SegDataset::validation_size() const {
  return options_.folder.empty() ? -1 : static_cast<int>(val_images_.size());
}

Result<std::pair<at::Tensor, at::Tensor>> MakeBatch(const std::vector<SegSample>& samples,
                                                    int input_size) {
  const int64_t n = samples.size(), s = input_size;
  at::Tensor x = torch::empty({n, 3, s, s});
  at::Tensor y = torch::empty({n, 1, s, s});
  imaging::PreprocessOptions pre;
  pre.size = cv::Size(input_size, input_size);
  for (int64_t i = 0; i < n; ++i) {
    SEGHUB_ASSIGN_OR_RETURN(imaging::PlanarImage p, imaging::Preprocess(samples[i].image, pre));
    std::copy(p.data.begin(), p.data.end(), x.data_ptr<float>() + i * 3 * s * s);
    // Area-averaged mask: a soft target at the edges, like the stretched image itself.
    cv::Mat m;
    cv::resize(samples[i].mask, m, pre.size, 0, 0, cv::INTER_AREA);
    cv::Mat f(pre.size, CV_32F, y.data_ptr<float>() + i * s * s);
    m.convertTo(f, CV_32F, 1.0 / 255.0);
  }
  return std::make_pair(x, y);
}

at::Tensor DiceBceLoss(const at::Tensor& logits_in, const at::Tensor& target, double dice_weight,
                       const at::Tensor& weight) {
  at::Tensor logits = logits_in;
  if (logits.size(2) != target.size(2) || logits.size(3) != target.size(3)) {
    logits = torch::upsample_bilinear2d(logits, {target.size(2), target.size(3)}, false);
  }
  // [N, 1, H, W] weights broadcast over the target's channels.
  at::Tensor bce = torch::binary_cross_entropy_with_logits(logits, target, weight);
  at::Tensor p = torch::sigmoid(logits);
  // +1 keeps batches without foreground finite.
  const std::vector<int64_t> dims = {0, 2, 3};  // per channel
  at::Tensor dice =
      1 - ((2 * (p * target).sum(dims) + 1) / (p.sum(dims) + target.sum(dims) + 1)).mean();
  return bce + dice_weight * dice;
}

std::vector<at::Tensor> TrainableParameters(NetworkSpec* net) {
  std::vector<at::Tensor> out;
  for (const auto& p : net->params) {
    at::Tensor t = net->module.attr(p.attr_name).toTensor();
    t.requires_grad_(true);
    out.push_back(t);
  }
  return out;
}

Result<double> SegTrainStep(NetworkSpec* net, torch::optim::Adam* optimizer, const at::Tensor& x,
                            const at::Tensor& y, double dice_weight, const at::Tensor& weight) {
  if (net->check_input) SEGHUB_RETURN_IF_ERROR(net->check_input(x.sizes().vec()));
  optimizer->zero_grad();
  at::Tensor logits = net->module.forward({x}).toTensor();
  at::Tensor loss = DiceBceLoss(logits, y, dice_weight, weight);
  const double value = loss.item<double>();
  if (!std::isfinite(value)) return Internal("training loss is not finite");
  loss.backward();
  optimizer->step();
  return value;
}

Result<SegEvalResult> EvaluateSegmentation(NetworkSpec* net, const SegDataset& data,
                                           const SegEvalOptions& o) {
  SegEvalResult r;
  const int count = data.validation_size() < 0 ? o.images : data.validation_size();
  double inter_all = 0, sum_all = 0, dice_sum = 0;
  torch::NoGradGuard no_grad;
  for (int i = 0; i < count; ++i) {
    SEGHUB_ASSIGN_OR_RETURN(SegSample s, data.Validation(i));
    SEGHUB_ASSIGN_OR_RETURN(auto batch, MakeBatch({s}, o.input_size));
    if (net->check_input) SEGHUB_RETURN_IF_ERROR(net->check_input(batch.first.sizes().vec()));
    at::Tensor prob = torch::sigmoid(net->module.forward({batch.first}).toTensor()).contiguous();
    cv::Mat p(static_cast<int>(prob.size(2)), static_cast<int>(prob.size(3)), CV_32F,
              prob.data_ptr<float>());
    cv::Mat full;
    cv::resize(p, full, s.image.size(), 0, 0, cv::INTER_LINEAR);  // back to the photo's size
    const cv::Mat pred = full > o.threshold, truth = s.mask != 0;
    const double inter = cv::countNonZero(pred & truth);
    const double sum = cv::countNonZero(pred) + cv::countNonZero(truth);
    dice_sum += sum > 0 ? 2 * inter / sum : 1.0;
    inter_all += inter;
    sum_all += sum;
  }
  r.images = count;
  r.mean_dice = count > 0 ? dice_sum / count : 0.0;
  r.pooled_dice = sum_all > 0 ? 2 * inter_all / sum_all : 1.0;
  return r;
}

Result<SegEvalResult> EvaluateCrops(NetworkSpec* net, const CropDataset& data, double threshold) {
  SegEvalResult r;
  double inter_all = 0, sum_all = 0, dice_sum = 0;
  torch::NoGradGuard no_grad;
  for (const CropImage& img : data.validation()) {
    cv::Size padded;
    std::vector<float> input = data.WholeInput(img.unit, &padded);
    at::Tensor x =
        torch::from_blob(input.data(), {1, img.unit.channels(), padded.height, padded.width});
    if (net->check_input) SEGHUB_RETURN_IF_ERROR(net->check_input(x.sizes().vec()));
    at::Tensor logits = net->module.forward({x}).toTensor();
    if (logits.size(2) != padded.height || logits.size(3) != padded.width) {
      logits = torch::upsample_bilinear2d(logits, {padded.height, padded.width}, false);
    }
    at::Tensor prob = torch::sigmoid(logits).contiguous();
    cv::Mat p(padded.height, padded.width, CV_32F, prob.data_ptr<float>());
    const cv::Mat pred = p(cv::Rect(0, 0, img.unit.cols, img.unit.rows)) > threshold;
    const double inter = cv::countNonZero(pred & img.foreground);
    const double sum = cv::countNonZero(pred) + cv::countNonZero(img.foreground);
    dice_sum += sum > 0 ? 2 * inter / sum : 1.0;
    inter_all += inter;
    sum_all += sum;
  }
  r.images = static_cast<int>(data.validation().size());
  r.mean_dice = r.images > 0 ? dice_sum / r.images : 0.0;
  r.pooled_dice = sum_all > 0 ? 2 * inter_all / sum_all : 1.0;
  return r;
}

namespace {

// Inputs, targets and (undefined unless the data is weighted) per-pixel loss weights.
struct TrainBatch {
  at::Tensor x, y, weight;
};

using BatchFn = std::function<Result<TrainBatch>(uint64_t first_index)>;

// Synthetic or folder samples, augmented, stretched as the server does.
BatchFn StretchBatches(const SegDataset& data, const SegTrainOptions& o) {
  return [&data, &o](uint64_t first) -> Result<TrainBatch> {
    std::vector<SegSample> samples;
    for (int b = 0; b < o.batch_size; ++b) {
      const uint64_t index = first + b;
      SEGHUB_ASSIGN_OR_RETURN(SegSample s, data.Train(index));
      if (o.augment) {
        SEGHUB_RETURN_IF_ERROR(
            AugmentPair(o.augment_options, index * 2654435761ULL + o.seed, &s.image, &s.mask));
      }
      samples.push_back(std::move(s));
    }
    SEGHUB_ASSIGN_OR_RETURN(auto xy, MakeBatch(samples, o.input_size));
    return TrainBatch{std::move(xy.first), std::move(xy.second), {}};
  };
}

// Native-resolution crops (models/seg_crops.h).
BatchFn CropBatches(const CropDataset& data, const SegTrainOptions& o) {
  return [&data, &o](uint64_t first) -> Result<TrainBatch> {
    const int64_t n = o.batch_size, s = data.options().crop, c = data.options().channels;
    const int64_t t = data.target_channels();
    TrainBatch batch{torch::empty({n, c, s, s}), torch::empty({n, t, s, s}), {}};
    if (data.weighted()) batch.weight = torch::empty({n, 1, s, s});
    for (int64_t b = 0; b < n; ++b) {
      float* w = data.weighted() ? batch.weight.data_ptr<float>() + b * s * s : nullptr;
      SEGHUB_RETURN_IF_ERROR(data.Train(first + b, o.seed,
                                        batch.x.data_ptr<float>() + b * c * s * s,
                                        batch.y.data_ptr<float>() + b * t * s * s, w));
    }
    return batch;
  };
}

// One epoch of Adam steps on fresh (augmented) samples; returns the mean loss.
Result<double> TrainEpoch(NetworkSpec* net, torch::optim::Adam* optimizer, const BatchFn& batches,
                          const SegTrainOptions& o, int epoch) {
  double loss_sum = 0.0;
  for (int step = 0; step < o.steps_per_epoch; ++step) {
    const uint64_t first =
        (static_cast<uint64_t>(epoch - 1) * o.steps_per_epoch + step) * o.batch_size;
    SEGHUB_ASSIGN_OR_RETURN(auto batch, batches(first));
    SEGHUB_ASSIGN_OR_RETURN(
        double loss, SegTrainStep(net, optimizer, batch.x, batch.y, o.dice_weight, batch.weight));
    loss_sum += loss;
    if (o.on_step) o.on_step(epoch, step + 1, loss_sum / (step + 1));
  }
  return loss_sum / o.steps_per_epoch;
}

Status Resume(const SegTrainOptions& o, NetworkSpec* net, torch::optim::Adam* optimizer,
              nlohmann::json* state) {
  try {
    *state = nlohmann::json::parse(std::ifstream(o.out_dir / "state.json"));
    {
      torch::NoGradGuard no_grad;  // copy_ into leaves that require grad
      SEGHUB_RETURN_IF_ERROR(LoadSafetensorsWeights(net, o.out_dir / "last.safetensors"));
    }
    if (fs::exists(o.out_dir / "optimizer.pt")) {
      torch::load(*optimizer, (o.out_dir / "optimizer.pt").string());
    }
  } catch (const std::exception& e) {
    return InvalidArgument("cannot resume from " + o.out_dir.string() + ": " + e.what());
  }
  return Status::Ok();
}

// best.safetensors (when `best`), last.safetensors and the Adam state.
Status SaveCheckpoints(const SegTrainOptions& o, const NetworkSpec& net,
                       const torch::optim::Adam& optimizer, int epoch, double dice, bool best) {
  const auto meta = Metadata(o, epoch, dice);
  if (best)
    SEGHUB_RETURN_IF_ERROR(SaveSafetensorsWeights(net, o.out_dir / "best.safetensors", meta));
  SEGHUB_RETURN_IF_ERROR(SaveSafetensorsWeights(net, o.out_dir / "last.safetensors", meta));
  try {
    torch::save(optimizer, (o.out_dir / "optimizer.pt").string());
  } catch (const std::exception& e) {
    return Internal(std::string("saving the optimizer state failed: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace

Result<nlohmann::json> TrainSegmentation(const SegTrainOptions& o) {
  if (o.out_dir.empty()) return InvalidArgument("training needs an output folder");
  if (o.epochs <= 0 || o.steps_per_epoch <= 0 || o.batch_size <= 0 || o.input_size < 32) {
    return InvalidArgument("epochs, steps and batch size must be positive, input size >= 32");
  }
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) return Internal("cannot create " + o.out_dir.string() + ": " + ec.message());
  SEGHUB_ASSIGN_OR_RETURN(NetworkSpec net, BuildNetwork(o.architecture, o.arch_params));
  const bool crops = !o.crops.folders.empty();
  const int target_channels = crops && o.crops.core_fraction > 0 ? 2 : 1;
  if (net.out_channels != target_channels) {
    return InvalidArgument("the network has " + std::to_string(net.out_channels) +
                           " output channels, the training target " +
                           std::to_string(target_channels) +
                           (target_channels == 1 ? "" : " (foreground and cores)"));
  }
  {
    torch::NoGradGuard no_grad;  // both copy_ into the parameters
    RandomInit(&net, o.init_seed);
    if (!o.init_weights.empty()) {
      SEGHUB_RETURN_IF_ERROR(LoadWeightsFile(&net, o.init_weights, o.grow_outputs));
    }
  }
  SEGHUB_ASSIGN_OR_RETURN(SegDataset data, SegDataset::Open(o.data, o.seed));
  std::optional<CropDataset> crop_data;
  if (crops) {
    SEGHUB_ASSIGN_OR_RETURN(CropDataset c, CropDataset::Open(o.crops));
    crop_data.emplace(std::move(c));
  }
  const BatchFn batches = crops ? CropBatches(*crop_data, o) : StretchBatches(data, o);
  torch::optim::Adam optimizer(TrainableParameters(&net),
                               torch::optim::AdamOptions(o.learning_rate));
  nlohmann::json state = {{"epoch", 0},
                          {"best_dice", -1.0},
                          {"architecture", o.architecture},
                          {"arch_params", o.arch_params},
                          {"input_size", o.input_size},
                          {"history", nlohmann::json::array()}};
  if (o.resume && fs::exists(o.out_dir / "state.json")) {
    SEGHUB_RETURN_IF_ERROR(Resume(o, &net, &optimizer, &state));
  }
  SegEvalOptions eval{o.input_size, o.val_images, 0.5};
  const auto started = SteadyClock::now();
  const int first = state["epoch"].get<int>();
  for (int epoch = first + 1; epoch <= o.epochs; ++epoch) {
    const auto t0 = SteadyClock::now();
    const double lr =
        LearningRateAt(o.lr_schedule, o.learning_rate, o.min_learning_rate, epoch, o.epochs);
    SetLearningRate(&optimizer, lr);
    SEGHUB_ASSIGN_OR_RETURN(double loss, TrainEpoch(&net, &optimizer, batches, o, epoch));
    SegEvalResult val;
    if (crops) {
      SEGHUB_ASSIGN_OR_RETURN(val, EvaluateCrops(&net, *crop_data, 0.5));
    } else {
      SEGHUB_ASSIGN_OR_RETURN(val, EvaluateSegmentation(&net, data, eval));
    }
    SegEpochReport report{epoch, o.epochs, loss, val.mean_dice};
    report.best = val.mean_dice > state["best_dice"].get<double>();
    SEGHUB_RETURN_IF_ERROR(SaveCheckpoints(o, net, optimizer, epoch, val.mean_dice, report.best));
    if (report.best) {
      state["best_dice"] = val.mean_dice;
      state["best_epoch"] = epoch;
    }
    report.epoch_seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    const double elapsed = std::chrono::duration<double>(SteadyClock::now() - started).count();
    report.eta_seconds = elapsed / (epoch - first) * (o.epochs - epoch);
    if (o.time_budget_s > 0) {  // the budget, not --epochs, usually ends a run
      report.eta_seconds = std::min(report.eta_seconds, std::max(0.0, o.time_budget_s - elapsed));
    }
    state["epoch"] = epoch;
    state["history"].push_back({{"epoch", epoch},
                                {"loss", loss},
                                {"lr", lr},
                                {"val_dice", val.mean_dice},
                                {"val_pooled_dice", val.pooled_dice},
                                {"seconds", report.epoch_seconds}});
    SEGHUB_RETURN_IF_ERROR(WriteJson(o.out_dir / "state.json", state));
    if (o.on_epoch) o.on_epoch(report);
    if (o.time_budget_s > 0 && elapsed > o.time_budget_s) break;
  }
  return state;
}

}  // namespace seghub::models
