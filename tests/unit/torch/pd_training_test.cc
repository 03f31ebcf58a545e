// The PD trainer: region matching arithmetic, error listing, and tiny training runs that
// checkpoint, resume and follow the learning-rate schedule.
#include "models/pd_training.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

namespace seghub::models {
namespace {

// One epoch of a width-2 network on short signals: seconds on a CPU.
PdTrainOptions TinyRun(int steps, int signals) {
  PdTrainOptions o;
  o.base_width = 2;
  o.epochs = 1;
  o.steps_per_epoch = steps;
  o.batch_size = 2;
  o.signals_per_epoch = signals;
  o.train_length = 8192;
  o.val_signals = 1;
  o.val_length = 8192;
  return o;
}

TEST(PdTrainingTest, LabelRuns) {
  const auto runs = LabelRuns({0, 1, 1, 0, 1});
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].start, 1u);
  EXPECT_EQ(runs[0].end, 3u);
  EXPECT_EQ(runs[1].start, 4u);
  EXPECT_EQ(runs[1].end, 5u);
  EXPECT_TRUE(LabelRuns({0, 0}).empty());
}

TEST(PdTrainingTest, MatchRegionsNeedsIouAtLeastHalfAndIsOneToOne) {
  PdEvalResult acc;
  double iou_sum = 0.0;
  // [12, 20) vs [10, 20): IoU 0.8 matches; [50, 60) is a false positive.
  MatchRegions({{10, 20}}, {{12, 20}, {50, 60}}, 0.5, &acc, &iou_sum);
  EXPECT_EQ(acc.true_positives, 1);
  EXPECT_EQ(acc.false_positives, 1);
  EXPECT_EQ(acc.false_negatives, 0);
  EXPECT_DOUBLE_EQ(iou_sum, 0.8);
  // IoU 0.2: no match. Two predictions on one pulse: one TP, one FP.
  MatchRegions({{10, 20}}, {{10, 12}}, 0.5, &acc, &iou_sum);
  MatchRegions({{0, 10}}, {{0, 9}, {0, 8}}, 0.5, &acc, &iou_sum);
  EXPECT_EQ(acc.true_positives, 2);
  EXPECT_EQ(acc.false_positives, 3);
  EXPECT_EQ(acc.false_negatives, 1);
  // The unmatched sides are reported by index.
  std::vector<size_t> missed, spurious;
  MatchRegions({{10, 20}, {40, 50}}, {{11, 20}, {70, 80}, {41, 43}}, 0.5, &acc, &iou_sum, &missed,
               &spurious);
  EXPECT_EQ(missed, (std::vector<size_t>{1}));
  EXPECT_EQ(spurious, (std::vector<size_t>{1, 2}));
}

TEST(PdTrainingTest, EvaluationListsErrorsAndMinSnrSetsPulsesAside) {
  auto net = BuildNetwork("unet1d", {{"base_width", 2}});  // untrained: plenty of errors
  ASSERT_TRUE(net.ok());
  PdEvalOptions eval;
  eval.signals = 2;
  eval.length = 8192;
  eval.list_errors = true;
  auto r = EvaluatePd(&*net, eval);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(static_cast<int>(r->errors.size()), r->false_positives + r->false_negatives);
  int missed = 0;
  for (const PdEvalError& e : r->errors) {
    EXPECT_LT(e.start, e.end);
    EXPECT_GE(e.seed, eval.seed_base);
    EXPECT_LT(e.seed, eval.seed_base + 2);
    if (e.missed) {
      ++missed;
      EXPECT_TRUE(e.kind == "exponential" || e.kind == "oscillation") << e.kind;
      EXPECT_GT(e.decay_samples, 0.0);
    }
  }
  EXPECT_EQ(missed, r->false_negatives);
  EXPECT_GT(r->false_negatives + r->true_positives, 0);  // the signals hold pulses
  // No pulse stands 1e9 noise sigmas high: nothing is expected, and every region is dropped.
  eval.min_snr = 1e9;
  auto none = EvaluatePd(&*net, eval);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->true_positives + none->false_positives + none->false_negatives, 0);
  EXPECT_TRUE(none->errors.empty());
}

// The generator settings: defaults fitted to the real recording, or the first generator's slow
// pulses, which reproduce the older figures; listed misses carry the rise that was drawn.
TEST(PdTrainingTest, GeneratorChoosesPulseShapes) {
  const signals::SyntheticOptions fitted = PdSyntheticOptions(8192, 7);
  EXPECT_EQ(fitted.rise_per_decay, 0.0);
  EXPECT_EQ(fitted.max_decay_samples, signals::SyntheticOptions().max_decay_samples);
  PdGenerator legacy;
  legacy.legacy_pulses = true;
  const signals::SyntheticOptions slow = PdSyntheticOptions(8192, 7, legacy);
  EXPECT_EQ(slow.rise_per_decay, 0.3);
  EXPECT_EQ(slow.max_decay_samples, 30.0);
  EXPECT_EQ(slow.seed, 7u);

  auto net = BuildNetwork("unet1d", {{"base_width", 2}});
  ASSERT_TRUE(net.ok());
  PdEvalOptions eval;
  eval.signals = 2;
  eval.length = 8192;
  eval.list_errors = true;
  eval.generator = legacy;
  auto r = EvaluatePd(&*net, eval);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  int missed = 0;
  for (const PdEvalError& e : r->errors) {
    if (!e.missed) continue;
    ++missed;
    EXPECT_EQ(e.rise_samples, static_cast<size_t>(std::ceil(0.3 * e.decay_samples)));
  }
  EXPECT_GT(missed, 0);  // an untrained network misses pulses
}

TEST(PdTrainingTest, CosineScheduleIsRecordedPerEpoch) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("seghub_pd_training_cosine_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  PdTrainOptions o = TinyRun(/*steps=*/1, /*signals=*/1);
  o.epochs = 3;
  o.learning_rate = 1e-3;
  o.min_learning_rate = 1e-5;
  o.lr_schedule = LrSchedule::kCosine;
  o.out_dir = dir;
  auto state = TrainPd(o);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  const auto& h = (*state)["history"];
  ASSERT_EQ(h.size(), 3u);
  EXPECT_DOUBLE_EQ(h[0]["lr"].get<double>(), 1e-3);
  EXPECT_DOUBLE_EQ(h[1]["lr"].get<double>(), 0.5 * (1e-3 + 1e-5));
  EXPECT_DOUBLE_EQ(h[2]["lr"].get<double>(), 1e-5);
  std::filesystem::remove_all(dir);
}

TEST(PdTrainingTest, TinyRunCheckpointsAndResumes) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("seghub_pd_training_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  PdTrainOptions o = TinyRun(/*steps=*/2, /*signals=*/2);
  o.out_dir = dir;
  int reports = 0;
  o.on_epoch = [&](const PdEpochReport& r) {
    ++reports;
    EXPECT_TRUE(std::isfinite(r.train_loss));
    EXPECT_GE(r.val_f1, 0.0);
  };
  auto first = TrainPd(o);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ((*first)["epoch"], 1);
  for (const char* f : {"best.safetensors", "last.safetensors", "optimizer.pt", "state.json"}) {
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;
  }
  o.epochs = 2;
  o.resume = true;
  auto second = TrainPd(o);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ((*second)["epoch"], 2);
  EXPECT_EQ((*second)["history"].size(), 2u);
  EXPECT_EQ(reports, 2);  // the resumed run trained epoch 2 only

  // The saved weights load into a fresh network and evaluate.
  auto net = BuildNetwork("unet1d", {{"base_width", 2}});
  ASSERT_TRUE(net.ok());
  ASSERT_TRUE(LoadSafetensorsWeights(&*net, dir / "last.safetensors").ok());
  PdEvalOptions eval;
  eval.signals = 1;
  eval.length = 8192;
  auto r = EvaluatePd(&*net, eval);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(r->f1, 0.0);
  EXPECT_LE(r->f1, 1.0);
  std::filesystem::remove_all(dir);
}

TEST(PdTrainingTest, InitWeightsStartTheRun) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("seghub_pd_training_init_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  PdTrainOptions o = TinyRun(/*steps=*/1, /*signals=*/1);
  o.val_min_amplitude = 0.2;
  o.val_min_length = 10;
  o.out_dir = dir / "a";
  ASSERT_TRUE(TrainPd(o).ok());
  // A second run from those weights with a zero learning rate keeps every trainable parameter
  // (BatchNorm statistics still move, so they are skipped).
  o.out_dir = dir / "b";
  o.init_weights = dir / "a" / "last.safetensors";
  o.learning_rate = 0.0;
  ASSERT_TRUE(TrainPd(o).ok());
  auto a = BuildNetwork("unet1d", {{"base_width", 2}});
  auto b = BuildNetwork("unet1d", {{"base_width", 2}});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(LoadSafetensorsWeights(&*a, dir / "a" / "last.safetensors").ok());
  ASSERT_TRUE(LoadSafetensorsWeights(&*b, dir / "b" / "last.safetensors").ok());
  auto pa = a->module.named_parameters();
  auto pb = b->module.named_parameters();
  size_t compared = 0;
  for (auto ita = pa.begin(), itb = pb.begin(); ita != pa.end() && itb != pb.end(); ++ita, ++itb) {
    const std::string& name = (*ita).name;
    if (name.find("running_") != std::string::npos || name.find("num_batches") != std::string::npos)
      continue;  // BatchNorm statistics, held as parameters in these modules
    EXPECT_TRUE(torch::equal((*ita).value, (*itb).value)) << name;
    ++compared;
  }
  EXPECT_GT(compared, 10u);
  o.out_dir = dir / "c";
  o.init_weights = dir / "missing.safetensors";
  EXPECT_FALSE(TrainPd(o).ok());
  std::filesystem::remove_all(dir);
}

TEST(PdTrainingTest, RejectsBadOptions) {
  PdTrainOptions o;
  EXPECT_EQ(TrainPd(o).status().code(), StatusCode::kInvalidArgument);  // no out_dir
  o.out_dir = std::filesystem::temp_directory_path() / "seghub_pd_training_bad";
  o.window = 1000;
  EXPECT_EQ(TrainPd(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace seghub::models
