// Smoke tests of the segmentation trainer: a tiny U-Net takes real Adam steps on synthetic
// spheroids, its checkpoint is written and reloads, and augmentation keeps image and mask aligned.
#include "models/seg_training.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace seghub::models {
namespace {

namespace fs = std::filesystem;

const nlohmann::json kTinyUnet = {{"features", {4, 8}}, {"in_channels", 3}, {"out_channels", 1}};

fs::path TempDir(const std::string& name) {
  fs::path d = fs::temp_directory_path() /
               ("seghub_seg_training_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(SegTrainingTest, TwoStepsChangeWeightsWithFiniteLoss) {
  auto net = BuildNetwork("unet", kTinyUnet);
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  RandomInit(&*net, 0);
  const at::Tensor before = GetParameter(*net, "final_conv.weight").clone();
  SegDataOptions data_options;
  data_options.synthetic_size = 64;
  auto data = SegDataset::Open(data_options, 0);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  torch::optim::Adam adam(TrainableParameters(&*net), torch::optim::AdamOptions(1e-2));
  for (int step = 0; step < 2; ++step) {
    std::vector<SegSample> samples;
    for (int b = 0; b < 2; ++b) {
      auto s = data->Train(step * 2 + b);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      ASSERT_TRUE(AugmentPair({}, step * 2 + b, &s->image, &s->mask).ok());
      samples.push_back(*s);
    }
    auto batch = MakeBatch(samples, 32);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    EXPECT_EQ(batch->first.sizes(), (std::vector<int64_t>{2, 3, 32, 32}));
    EXPECT_GE(batch->second.min().item<float>(), 0.0f);
    EXPECT_LE(batch->second.max().item<float>(), 1.0f);
    auto loss = SegTrainStep(&*net, &adam, batch->first, batch->second, 1.0);
    ASSERT_TRUE(loss.ok()) << loss.status().ToString();
    EXPECT_TRUE(std::isfinite(*loss));
    EXPECT_GT(*loss, 0.0);
  }
  const at::Tensor after = GetParameter(*net, "final_conv.weight");
  EXPECT_GT((after - before).abs().max().item<float>(), 1e-5f);
}

TEST(SegTrainingTest, CheckpointIsWrittenReloadsAndResumes) {
  const fs::path dir = TempDir("ckpt");
  SegTrainOptions o;
  o.architecture = "unet";
  o.arch_params = kTinyUnet;
  o.input_size = 32;
  o.epochs = 1;
  o.steps_per_epoch = 2;
  o.batch_size = 2;
  o.val_images = 2;
  o.data.synthetic_size = 64;
  o.out_dir = dir;
  o.learning_rate = 1e-3;
  o.lr_schedule = LrSchedule::kCosine;  // the rate is a function of the epoch: resume continues it
  o.min_learning_rate = 1e-5;
  auto state = TrainSegmentation(o);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ((*state)["epoch"].get<int>(), 1);
  const double dice = (*state)["best_dice"].get<double>();
  EXPECT_GE(dice, 0.0);
  EXPECT_LE(dice, 1.0);
  ASSERT_TRUE(fs::exists(dir / "best.safetensors"));
  ASSERT_TRUE(fs::exists(dir / "state.json"));

  auto reloaded = BuildNetwork("unet", kTinyUnet);
  ASSERT_TRUE(reloaded.ok());
  RandomInit(&*reloaded, 0);
  const at::Tensor init = GetParameter(*reloaded, "final_conv.weight").clone();
  ASSERT_TRUE(LoadSafetensorsWeights(&*reloaded, dir / "best.safetensors").ok());
  EXPECT_GT((GetParameter(*reloaded, "final_conv.weight") - init).abs().max().item<float>(), 1e-5f);

  o.epochs = 2;
  o.resume = true;
  auto resumed = TrainSegmentation(o);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ((*resumed)["epoch"].get<int>(), 2);
  EXPECT_EQ((*resumed)["history"].size(), 2u);
  EXPECT_DOUBLE_EQ((*resumed)["history"][0]["lr"].get<double>(), 1e-3);  // a 1-epoch run: base
  EXPECT_DOUBLE_EQ((*resumed)["history"][1]["lr"].get<double>(), 1e-5);  // last of 2: min
  fs::remove_all(dir);
}

TEST(SegTrainingTest, AugmentationKeepsImageAndMaskAligned) {
  // The image is the mask itself: any geometric mismatch would show as a difference.
  cv::Mat mask = cv::Mat::zeros(48, 64, CV_8UC1);
  cv::circle(mask, {20, 15}, 9, cv::Scalar(255), -1);
  AugmentOptions geometric_only;
  geometric_only.brightness = geometric_only.contrast = geometric_only.gamma = 0.0;
  geometric_only.blur_probability = geometric_only.noise_probability = 0.0;
  bool changed = false;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    cv::Mat image = mask.clone(), m = mask.clone();
    ASSERT_TRUE(AugmentPair(geometric_only, seed, &image, &m).ok());
    cv::Mat binary = image > 127;
    EXPECT_LE(cv::countNonZero(binary != m), 0.02 * m.total()) << "seed " << seed;
    changed |= m.size() != mask.size() || cv::countNonZero(m != mask) > 0;
    cv::Mat again = mask.clone(), m2 = mask.clone();
    ASSERT_TRUE(AugmentPair(geometric_only, seed, &again, &m2).ok());
    EXPECT_EQ(cv::countNonZero(again != image), 0) << "not deterministic";
  }
  EXPECT_TRUE(changed);
}

TEST(SegTrainingTest, FolderDatasetHoldsOutEveryNthPair) {
  const fs::path dir = TempDir("folder");
  fs::create_directories(dir / "images");
  fs::create_directories(dir / "masks");
  for (int i = 0; i < 4; ++i) {
    cv::Mat img(40, 40, CV_8UC3, cv::Scalar(10 * i, 20, 30));
    cv::Mat m = cv::Mat::zeros(40, 40, CV_16UC1);
    m(cv::Rect(5, 5, 10, 10)).setTo(i + 1);  // instance labels count as foreground
    cv::imwrite((dir / "images" / ("s" + std::to_string(i) + ".png")).string(), img);
    cv::imwrite((dir / "masks" / ("s" + std::to_string(i) + ".png")).string(), m);
  }
  SegDataOptions o;
  o.folder = dir;
  o.val_every = 2;
  auto data = SegDataset::Open(o, 0);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->validation_size(), 2);
  auto v = data->Validation(0);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(cv::countNonZero(v->mask), 100);
  EXPECT_TRUE(data->Train(5).ok());
  EXPECT_FALSE(data->Validation(2).ok());
  fs::remove_all(dir);
}

// 20x30 labels: 6x6 squares 1 and 2 touch along x = 7 | 8; 5x5 square 3 stands alone.
cv::Mat TwoTouchingAndOneAlone() {
  cv::Mat labels = cv::Mat::zeros(20, 30, CV_16UC1);
  labels(cv::Rect(2, 2, 6, 6)).setTo(1);
  labels(cv::Rect(8, 2, 6, 6)).setTo(2);
  labels(cv::Rect(20, 10, 5, 5)).setTo(3);
  return labels;
}

// Two touching instances get a seam between them; a lone instance keeps its full extent, and a
// binary mask is split into connected components first.
TEST(SeamTargetTest, SeparatesTouchingInstancesOnly) {
  const cv::Mat labels = TwoTouchingAndOneAlone();
  auto t = SeamTarget(labels, 1);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->at<float>(4, 7), 0.0f);
  EXPECT_EQ(t->at<float>(4, 8), 0.0f);
  EXPECT_EQ(t->at<float>(4, 5), 1.0f);
  EXPECT_EQ(cv::countNonZero(*t), 36 * 2 - 12 + 25);
  cv::Mat binary = labels != 0;
  auto b = SeamTarget(binary, 1);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(cv::countNonZero(*b), 36 * 2 + 25);  // one component: nothing to separate
}

// Each instance's core lies inside it, off the seam, and touches no other instance's core; a
// tiny instance still gets one. A fraction outside (0, 1) is refused.
TEST(CoreTargetTest, EveryInstanceKeepsACoreAndNeighboursStayApart) {
  cv::Mat labels = cv::Mat::zeros(40, 60, CV_16UC1);
  cv::circle(labels, {15, 20}, 10, cv::Scalar(1), -1);
  cv::circle(labels, {33, 20}, 10, cv::Scalar(2), -1);  // overlaps 1: they touch along a chord
  labels(cv::Rect(50, 5, 2, 2)).setTo(3);
  auto core = CoreTarget(labels, 0.5);
  ASSERT_TRUE(core.ok()) << core.status().ToString();
  cv::Mat core8 = *core > 0.5f;
  for (int id = 1; id <= 3; ++id) {
    const cv::Mat own = core8 & (labels == id);
    EXPECT_GT(cv::countNonZero(own), 0) << "instance " << id;
  }
  EXPECT_EQ(cv::countNonZero(core8 & (labels == 0)), 0);
  cv::Mat grown;
  cv::dilate(core8 & (labels == 1), grown, cv::Mat::ones(3, 3, CV_8U));
  EXPECT_EQ(cv::countNonZero(grown & core8 & (labels == 2)), 0);
  // Half the inscribed radius: instance 1's core is a small disc around its centre.
  EXPECT_EQ(core->at<float>(20, 15), 1.0f);
  EXPECT_EQ(core->at<float>(20, 7), 0.0f);
  EXPECT_FALSE(CoreTarget(labels, 0.0).ok());
  EXPECT_FALSE(CoreTarget(labels, 1.0).ok());
}

// The border weight peaks on the seam and the background between touching instances, is 1 inside
// objects and next to a lone one, and bad parameters are refused.
TEST(SeamWeightTest, PeaksBetweenTouchingInstancesOnly) {
  const cv::Mat labels = TwoTouchingAndOneAlone();
  auto target = SeamTarget(labels, 1);
  ASSERT_TRUE(target.ok());
  auto w = SeamWeight(labels, *target, 10.0, 5.0);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  // Seam pixel of instance 1: d1 = 0 (its own), d2 = 1 (instance 2 next door).
  EXPECT_NEAR(w->at<float>(4, 7), 1 + 10 * std::exp(-1.0 / 50), 1e-4);
  // Background just above the contact: d1 = 1, d2 = sqrt(2).
  const double s = 1 + std::sqrt(2.0);
  EXPECT_NEAR(w->at<float>(1, 7), 1 + 10 * std::exp(-s * s / 50), 1e-3);
  EXPECT_LT(w->at<float>(1, 7), w->at<float>(4, 7));
  EXPECT_EQ(w->at<float>(4, 4), 1.0f);            // inside instance 1, off the seam
  EXPECT_EQ(w->at<float>(12, 22), 1.0f);          // inside the lone instance 3
  EXPECT_NEAR(w->at<float>(17, 27), 1.0f, 0.01);  // background next to instance 3 only
  double lo = 0, hi = 0;
  cv::minMaxLoc(*w, &lo, &hi);
  EXPECT_EQ(lo, 1.0);
  EXPECT_LE(hi, 11.0);
  auto flat = SeamWeight(labels, *target, 0.0, 5.0);
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ(cv::countNonZero(*flat != 1.0f), 0);
  EXPECT_FALSE(SeamWeight(labels, *target, 10.0, 0.0).ok());
  EXPECT_FALSE(SeamWeight(labels, *target, -1.0, 5.0).ok());

  // Instance 3 (25 px) is small at max_area 30; instances 1 and 2 (36 px) are not.
  ASSERT_TRUE(WeighSmallObjects(labels, 30, 4.0, &*w).ok());
  EXPECT_EQ(w->at<float>(12, 22), 5.0f);
  EXPECT_EQ(w->at<float>(4, 4), 1.0f);
  EXPECT_NEAR(w->at<float>(4, 7), 1 + 10 * std::exp(-1.0 / 50), 1e-4);  // seams keep theirs
  EXPECT_FALSE(WeighSmallObjects(labels, 30, -1.0, &*w).ok());
}

// Unit weights leave the loss as it is; weight on one pixel class moves it.
TEST(DiceBceLossTest, PixelWeightsScaleTheBceTerm) {
  torch::manual_seed(3);
  const at::Tensor logits = torch::randn({2, 1, 8, 8});
  const at::Tensor target = (torch::rand({2, 1, 8, 8}) > 0.5).to(torch::kFloat);
  const double plain = DiceBceLoss(logits, target, 1.0).item<double>();
  EXPECT_NEAR(DiceBceLoss(logits, target, 1.0, torch::ones({2, 1, 8, 8})).item<double>(), plain,
              1e-6);
  const at::Tensor heavy = 1 + 9 * (1 - target);
  EXPECT_GT(DiceBceLoss(logits, target, 1.0, heavy).item<double>(), plain);
  EXPECT_NEAR(DiceBceLoss(logits, target, 0.0, torch::full({2, 1, 8, 8}, 2.0)).item<double>(),
              2 * DiceBceLoss(logits, target, 0.0).item<double>(), 1e-5);
}

// Three nuclei per image, images/ + labels/ as the nuclei folders hold them.
fs::path WriteNucleiFolder(const std::string& name) {
  const fs::path dir = TempDir(name);
  fs::create_directories(dir / "images");
  fs::create_directories(dir / "labels");
  for (int i = 0; i < 4; ++i) {
    cv::Mat img(70, 90, CV_8UC1, cv::Scalar(20));
    cv::Mat lab = cv::Mat::zeros(70, 90, CV_16UC1);
    for (int k = 0; k < 3; ++k) {
      const cv::Point c(15 + 25 * k, 20 + 10 * i);
      cv::circle(img, c, 8, cv::Scalar(180 + 20 * k), -1);
      cv::circle(lab, c, 8, cv::Scalar(k + 1), -1);
    }
    cv::imwrite((dir / "images" / ("n" + std::to_string(i) + ".png")).string(), img);
    cv::imwrite((dir / "labels" / ("n" + std::to_string(i) + ".png")).string(), lab);
  }
  return dir;
}

SegTrainOptions TinyCropOptions(const fs::path& dir, int out_channels) {
  SegTrainOptions o;
  o.architecture = "unet";
  o.arch_params = {{"features", {4, 8}}, {"in_channels", 1}, {"out_channels", out_channels}};
  o.crops.folders = {dir};
  o.crops.crop = 32;
  o.crops.val_every = 4;
  o.crops.normalize.mode = imaging::NormalizeMode::kPercentile;
  o.input_size = 32;
  o.epochs = 1;
  o.steps_per_epoch = 2;
  o.batch_size = 2;
  return o;
}

// A one-channel model grows a core head: with grow_outputs its learnt weights carry over (the
// foreground row of the last layer unchanged), without it the shapes are refused; crops then
// carry two target planes, the core never above the foreground.
TEST(SegTrainingTest, CoreChannelGrowsFromAOneChannelModel) {
  const fs::path dir = WriteNucleiFolder("cores");
  SegTrainOptions one = TinyCropOptions(dir, 1);
  one.out_dir = dir / "one";
  ASSERT_TRUE(TrainSegmentation(one).ok());

  SegTrainOptions two = TinyCropOptions(dir, 2);
  two.out_dir = dir / "two";
  EXPECT_FALSE(TrainSegmentation(two).ok()) << "2 outputs but a 1-channel target";
  two.crops.core_fraction = 0.5;
  auto data = CropDataset::Open(two.crops);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->target_channels(), 2);
  std::vector<float> x(32 * 32), y(2 * 32 * 32);
  for (uint64_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(data->Train(i, 0, x.data(), y.data()).ok());
    for (size_t k = 0; k < 32 * 32; ++k) ASSERT_LE(y[32 * 32 + k], y[k] + 1e-6f);
  }
  two.init_weights = one.out_dir / "best.safetensors";
  EXPECT_FALSE(TrainSegmentation(two).ok()) << "shapes differ and grow_outputs is off";
  two.grow_outputs = true;
  auto state = TrainSegmentation(two);
  ASSERT_TRUE(state.ok()) << state.status().ToString();

  auto small = BuildNetwork("unet", one.arch_params);
  auto big = BuildNetwork("unet", two.arch_params);
  ASSERT_TRUE(small.ok() && big.ok());
  ASSERT_TRUE(LoadSafetensorsWeights(&*small, two.init_weights).ok());
  auto tensors = ReadSafetensorsTensors(two.init_weights);
  ASSERT_TRUE(tensors.ok());
  const std::vector<std::string> grown = GrowOutputs(*big, &*tensors);
  ASSERT_EQ(grown.size(), 2u);  // the last convolution's weight and bias
  ASSERT_TRUE(LoadStateDict(&*big, *tensors).ok());
  for (const std::string& name : grown) {
    const at::Tensor was = GetParameter(*small, name), now = GetParameter(*big, name);
    EXPECT_EQ(now.size(0), 2);
    EXPECT_TRUE(torch::equal(now.slice(0, 0, 1), was)) << name;
  }
  fs::remove_all(dir);
}

// Crop training on a folder with instance labels: images are held in memory, crops carry the
// seam target, whole held-out images validate, and a short run writes a checkpoint.
TEST(SegTrainingTest, CropTrainingOnLabelledFolder) {
  const fs::path dir = WriteNucleiFolder("crops");
  SegTrainOptions o = TinyCropOptions(dir, 1);
  o.out_dir = dir / "run";
  auto data = CropDataset::Open(o.crops);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->training().size(), 3u);
  ASSERT_EQ(data->validation().size(), 1u);
  std::vector<float> x(32 * 32), y(32 * 32);
  ASSERT_TRUE(data->Train(0, 0, x.data(), y.data()).ok());
  EXPECT_GE(*std::min_element(y.begin(), y.end()), 0.0f);
  EXPECT_LE(*std::max_element(y.begin(), y.end()), 1.0f);
  auto state = TrainSegmentation(o);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ((*state)["epoch"].get<int>(), 1);
  EXPECT_TRUE(fs::exists(o.out_dir / "best.safetensors"));
  o.crops.folders = {dir / "missing"};
  EXPECT_FALSE(CropDataset::Open(o.crops).ok());
  fs::remove_all(dir);
}

// With a seam weight every crop carries its weight plane (asked for, or the crop is refused),
// and training on it runs.
TEST(SegTrainingTest, SeamWeightedCropTraining) {
  const fs::path dir = WriteNucleiFolder("weighted");
  cv::Mat lab = cv::imread((dir / "labels" / "n0.png").string(), cv::IMREAD_UNCHANGED);
  cv::circle(lab, {35, 20}, 8, cv::Scalar(4), -1);  // overlaps nucleus 2 of n0, near nucleus 1
  cv::imwrite((dir / "labels" / "n0.png").string(), lab);
  SegTrainOptions o = TinyCropOptions(dir, 1);
  o.out_dir = dir / "run";
  o.crops.seam_weight = 10.0;
  o.crops.min_scale = o.crops.max_scale = 1.0;
  auto data = CropDataset::Open(o.crops);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  ASSERT_TRUE(data->weighted());
  std::vector<float> x(32 * 32), y(32 * 32), w(32 * 32);
  EXPECT_FALSE(data->Train(0, 0, x.data(), y.data()).ok()) << "no weight buffer";
  float top = 0;
  for (uint64_t i = 0; i < 16; ++i) {
    ASSERT_TRUE(data->Train(i, 0, x.data(), y.data(), w.data()).ok());
    EXPECT_GE(*std::min_element(w.begin(), w.end()), 1.0f - 1e-5f);
    top = std::max(top, *std::max_element(w.begin(), w.end()));
  }
  EXPECT_GT(top, 5.0f) << "some crop holds the seam of n0";
  EXPECT_LE(top, 11.0f);
  auto state = TrainSegmentation(o);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  o.crops.seam_weight = -1;
  EXPECT_FALSE(CropDataset::Open(o.crops).ok());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace seghub::models
