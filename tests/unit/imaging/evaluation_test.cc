#include "imaging/evaluation.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "test_util.h"

namespace seghub::imaging {
namespace {

namespace fs = std::filesystem;

cv::Mat Labels(int rows = 64, int cols = 64) { return cv::Mat::zeros(rows, cols, CV_32S); }

void Box(cv::Mat* labels, int x, int y, int w, int h, int value) {
  (*labels)(cv::Rect(x, y, w, h)).setTo(value);
}

ImageEvaluation Evaluate(const cv::Mat& pred, const cv::Mat& truth,
                         const EvaluationOptions& options = {}) {
  auto result = EvaluateInstances(pred, truth, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? *result : ImageEvaluation{};
}

TEST(EvaluationTest, IdenticalImagesScoreOne) {
  cv::Mat truth = Labels();
  Box(&truth, 2, 2, 10, 10, 1);
  Box(&truth, 20, 20, 15, 5, 7);
  Box(&truth, 40, 3, 6, 30, 3);
  const ImageEvaluation e = Evaluate(truth, truth);
  EXPECT_EQ(e.num_true, 3);
  EXPECT_EQ(e.num_predicted, 3);
  EXPECT_DOUBLE_EQ(e.dice, 1.0);
  EXPECT_DOUBLE_EQ(e.iou, 1.0);
  EXPECT_DOUBLE_EQ(e.aji, 1.0);
  ASSERT_EQ(e.matches.size(), 3u);
  for (const MatchCounts& m : e.matches) {
    EXPECT_EQ(m.tp, 3);
    EXPECT_EQ(m.fp + m.fn, 0);
    EXPECT_DOUBLE_EQ(m.AveragePrecision(), 1.0);
  }
  EXPECT_DOUBLE_EQ(e.mean_matched_iou, 1.0);
}

TEST(EvaluationTest, LabelValuesAndTypesDoNotMatter) {
  cv::Mat truth = Labels();
  Box(&truth, 2, 2, 10, 10, 1);
  Box(&truth, 20, 20, 15, 5, 2);
  cv::Mat pred = Labels();
  Box(&pred, 2, 2, 10, 10, 60000);
  Box(&pred, 20, 20, 15, 5, 9);
  cv::Mat pred16;
  pred.convertTo(pred16, CV_16U);
  const ImageEvaluation e = Evaluate(pred16, truth);
  EXPECT_DOUBLE_EQ(e.matches[0].AveragePrecision(), 1.0);
  EXPECT_DOUBLE_EQ(e.aji, 1.0);
}

TEST(EvaluationTest, MissedObject) {
  cv::Mat truth = Labels();
  Box(&truth, 0, 0, 10, 10, 1);
  Box(&truth, 30, 30, 10, 10, 2);
  cv::Mat pred = Labels();
  Box(&pred, 0, 0, 10, 10, 1);
  const ImageEvaluation e = Evaluate(pred, truth);
  EXPECT_EQ(e.matches[0].tp, 1);
  EXPECT_EQ(e.matches[0].fp, 0);
  EXPECT_EQ(e.matches[0].fn, 1);
  EXPECT_DOUBLE_EQ(e.matches[0].AveragePrecision(), 0.5);
  EXPECT_DOUBLE_EQ(e.matches[2].AveragePrecision(), 0.5);
  EXPECT_DOUBLE_EQ(e.dice, 2.0 / 3.0);  // 2·100 / (100 + 200)
  EXPECT_DOUBLE_EQ(e.iou, 0.5);
  EXPECT_DOUBLE_EQ(e.aji, 0.5);  // C = 100, U = 100 + 100 (missed object)
}

TEST(EvaluationTest, SplitObject) {
  cv::Mat truth = Labels();
  Box(&truth, 0, 0, 20, 10, 1);  // 200 px
  cv::Mat pred = Labels();
  Box(&pred, 0, 0, 10, 10, 1);  // each half: IoU 100 / 200 = 0.5 exactly
  Box(&pred, 10, 0, 10, 10, 2);
  const ImageEvaluation e = Evaluate(pred, truth);
  // IoU >= 0.5 counts (Cellpose, StarDist): one half matches, the other is a false positive.
  EXPECT_EQ(e.matches[0].tp, 1);
  EXPECT_EQ(e.matches[0].fp, 1);
  EXPECT_EQ(e.matches[0].fn, 0);
  EXPECT_DOUBLE_EQ(e.matches[0].AveragePrecision(), 0.5);
  EXPECT_DOUBLE_EQ(e.matches[1].AveragePrecision(), 0.0);  // 0 / (0 + 2 + 1)
  EXPECT_EQ(e.matches[1].fp, 2);
  EXPECT_EQ(e.matches[1].fn, 1);
  EXPECT_DOUBLE_EQ(e.dice, 1.0);
  EXPECT_DOUBLE_EQ(e.aji, 100.0 / 300.0);  // C = 100, U = 200 + unused half 100
  EXPECT_DOUBLE_EQ(e.mean_matched_iou, 0.5);
}

TEST(EvaluationTest, ShiftedObject) {
  cv::Mat truth = Labels();
  Box(&truth, 10, 10, 10, 10, 1);
  cv::Mat pred = Labels();
  Box(&pred, 12, 10, 10, 10, 1);  // intersection 80, union 120: IoU 2/3
  const ImageEvaluation e = Evaluate(pred, truth);
  EXPECT_DOUBLE_EQ(e.matches[0].AveragePrecision(), 1.0);
  EXPECT_DOUBLE_EQ(e.matches[1].AveragePrecision(), 0.0);
  EXPECT_EQ(e.matches[1].fp, 1);
  EXPECT_EQ(e.matches[1].fn, 1);
  EXPECT_DOUBLE_EQ(e.mean_matched_iou, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(e.dice, 0.8);
  EXPECT_DOUBLE_EQ(e.iou, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(e.aji, 2.0 / 3.0);
}

TEST(EvaluationTest, EmptyImages) {
  const cv::Mat empty = Labels();
  const ImageEvaluation both = Evaluate(empty, empty);
  EXPECT_DOUBLE_EQ(both.dice, 1.0);
  EXPECT_DOUBLE_EQ(both.aji, 1.0);
  EXPECT_DOUBLE_EQ(both.matches[0].AveragePrecision(), 1.0);

  cv::Mat truth = Labels();
  Box(&truth, 5, 5, 8, 8, 1);
  const ImageEvaluation none_predicted = Evaluate(empty, truth);
  EXPECT_DOUBLE_EQ(none_predicted.dice, 0.0);
  EXPECT_DOUBLE_EQ(none_predicted.aji, 0.0);
  EXPECT_EQ(none_predicted.matches[0].fn, 1);
  EXPECT_DOUBLE_EQ(none_predicted.matches[0].AveragePrecision(), 0.0);

  const ImageEvaluation nothing_true = Evaluate(truth, empty);
  EXPECT_DOUBLE_EQ(nothing_true.iou, 0.0);
  EXPECT_EQ(nothing_true.matches[0].fp, 1);
  EXPECT_DOUBLE_EQ(nothing_true.matches[0].AveragePrecision(), 0.0);
}

// Below 0.5 greedy matching is not optimal; the assignment must find both pairs.
TEST(EvaluationTest, LowThresholdUsesOptimalMatching) {
  cv::Mat truth = Labels(10, 64);
  Box(&truth, 0, 0, 20, 10, 1);   // A
  Box(&truth, 20, 0, 20, 10, 2);  // B
  cv::Mat pred = Labels(10, 64);
  Box(&pred, 0, 0, 6, 10, 1);   // Q: IoU(A) = 60/200 = 0.3
  Box(&pred, 6, 0, 26, 10, 2);  // P: IoU(A) = 140/320, IoU(B) = 120/340
  EvaluationOptions options;
  options.iou_thresholds = {0.3, 0.5};
  const ImageEvaluation e = Evaluate(pred, truth, options);
  EXPECT_EQ(e.matches[0].tp, 2);  // greedy would take P-A and stop at 1
  EXPECT_DOUBLE_EQ(e.matches[0].AveragePrecision(), 1.0);
  EXPECT_EQ(e.matches[1].tp, 0);
}

// Greedy (t >= 0.5) and the assignment (t < 0.5) agree just around 0.5 on random scenes.
TEST(EvaluationTest, GreedyMatchesAssignmentAtHalf) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> pos(0, 90), size(4, 20);
  for (int trial = 0; trial < 50; ++trial) {
    cv::Mat truth = Labels(110, 110), pred = Labels(110, 110);
    for (int k = 1; k <= 12; ++k) {
      Box(&truth, pos(rng), pos(rng), size(rng), size(rng), k);
      Box(&pred, pos(rng), pos(rng), size(rng), size(rng), k);
    }
    EvaluationOptions options;
    options.iou_thresholds = {0.5, 0.5 - 1e-12};
    const ImageEvaluation e = Evaluate(pred, truth, options);
    EXPECT_EQ(e.matches[0].tp, e.matches[1].tp) << "trial " << trial;
  }
}

TEST(EvaluationTest, AggregatePoolsCountsAndAveragesImages) {
  cv::Mat truth1 = Labels();
  Box(&truth1, 0, 0, 10, 10, 1);
  Box(&truth1, 20, 0, 10, 10, 2);
  Box(&truth1, 40, 0, 10, 10, 3);
  cv::Mat truth2 = Labels();
  Box(&truth2, 0, 0, 10, 10, 1);
  Box(&truth2, 30, 30, 10, 10, 2);
  cv::Mat pred2 = Labels();
  Box(&pred2, 0, 0, 10, 10, 1);
  auto dataset = AggregateEvaluations({Evaluate(truth1, truth1), Evaluate(pred2, truth2)});
  ASSERT_TRUE(dataset.ok());
  EXPECT_EQ(dataset->num_images, 2);
  EXPECT_EQ(dataset->matches[0].tp, 4);
  EXPECT_EQ(dataset->matches[0].fn, 1);
  EXPECT_DOUBLE_EQ(dataset->matches[0].AveragePrecision(), 0.8);
  EXPECT_DOUBLE_EQ(dataset->mean_average_precision[0], 0.75);
  EXPECT_DOUBLE_EQ(dataset->mean_aji, 0.75);
  EXPECT_DOUBLE_EQ(dataset->pooled_aji, 400.0 / 500.0);
  EXPECT_DOUBLE_EQ(dataset->mean_dice, (1.0 + 2.0 / 3.0) / 2.0);
  const nlohmann::json j = ToJson(*dataset);
  EXPECT_DOUBLE_EQ(j["ap"]["0.5"].get<double>(), 0.8);
  EXPECT_DOUBLE_EQ(j["mean_ap"]["0.75"].get<double>(), 0.75);

  EvaluationOptions other;
  other.iou_thresholds = {0.5};
  EXPECT_FALSE(
      AggregateEvaluations({Evaluate(truth1, truth1), Evaluate(truth1, truth1, other)}).ok());
}

// One scene with every error category once: a merged pair, a split object, a missed one and a
// spurious prediction; a correct object is in none. The dataset sums the counts.
TEST(EvaluationTest, ErrorCategoriesByMajorityOverlap) {
  cv::Mat truth = Labels(), pred = Labels();
  Box(&truth, 2, 2, 10, 10, 1);  // 1 and 2 touch; one prediction covers both
  Box(&truth, 12, 2, 10, 10, 2);
  Box(&pred, 2, 2, 20, 10, 1);
  Box(&truth, 30, 2, 20, 10, 3);  // split in two halves
  Box(&pred, 30, 2, 10, 10, 2);
  Box(&pred, 40, 2, 10, 10, 3);
  Box(&truth, 2, 30, 8, 8, 4);  // missed: only a quarter of it predicted
  Box(&pred, 2, 30, 4, 4, 4);
  Box(&pred, 40, 40, 6, 6, 5);     // spurious
  Box(&truth, 20, 50, 10, 10, 5);  // found
  Box(&pred, 20, 50, 10, 10, 6);
  const ImageEvaluation e = Evaluate(pred, truth);
  EXPECT_EQ(e.errors.merged, 2);
  EXPECT_EQ(e.errors.split, 1);
  EXPECT_EQ(e.errors.missed, 1);
  // Prediction 4 lies wholly on object 4 (not spurious), prediction 5 on nothing.
  EXPECT_EQ(e.errors.spurious, 1);
  const ImageEvaluation perfect = Evaluate(truth, truth);
  EXPECT_EQ(perfect.errors.merged + perfect.errors.split + perfect.errors.missed +
                perfect.errors.spurious,
            0);
  auto all = AggregateEvaluations({e, e, perfect});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->errors.merged, 4);
  EXPECT_EQ(all->errors.spurious, 2);
  EXPECT_EQ(ToJson(*all)["errors"]["split"], 2);
  EXPECT_EQ(ToJson(e)["errors"]["missed"], 1);
}

TEST(EvaluationTest, RejectsBadInput) {
  EXPECT_FALSE(EvaluateInstances(Labels(10, 10), Labels(10, 11)).ok());
  EXPECT_FALSE(EvaluateInstances(cv::Mat(), Labels()).ok());
  EXPECT_FALSE(
      EvaluateInstances(cv::Mat::zeros(8, 8, CV_8UC3), cv::Mat::zeros(8, 8, CV_8UC3)).ok());
  EXPECT_FALSE(EvaluateInstances(cv::Mat::zeros(8, 8, CV_32F), cv::Mat::zeros(8, 8, CV_32F)).ok());
  EvaluationOptions bad;
  bad.iou_thresholds = {0.0};
  EXPECT_FALSE(EvaluateInstances(Labels(), Labels(), bad).ok());
}

class GroundTruthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("seghub_eval_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(GroundTruthTest, Reads16BitLabelsBinaryMasksAndMaskFolders) {
  cv::Mat labels16 = cv::Mat::zeros(20, 30, CV_16U);
  labels16(cv::Rect(1, 1, 5, 5)).setTo(300);
  labels16(cv::Rect(10, 1, 5, 5)).setTo(2);
  ASSERT_TRUE(cv::imwrite((dir_ / "l.png").string(), labels16));
  auto read16 = ReadGroundTruthLabels((dir_ / "l.png").string());
  ASSERT_TRUE(read16.ok()) << read16.status().ToString();
  EXPECT_EQ(read16->type(), CV_32S);
  EXPECT_EQ(read16->at<int>(2, 2), 300);

  cv::Mat mask = cv::Mat::zeros(20, 30, CV_8U);
  mask(cv::Rect(1, 1, 5, 5)).setTo(255);
  mask(cv::Rect(10, 10, 5, 5)).setTo(255);
  ASSERT_TRUE(cv::imwrite((dir_ / "m.png").string(), mask));
  auto binary = ReadGroundTruthLabels((dir_ / "m.png").string());
  ASSERT_TRUE(binary.ok());
  double max_label = 0;
  cv::minMaxLoc(*binary, nullptr, &max_label);
  EXPECT_EQ(max_label, 2.0);  // two connected components

  fs::create_directories(dir_ / "case" / "masks");
  cv::Mat one = cv::Mat::zeros(20, 30, CV_8U), two = one.clone();
  one(cv::Rect(0, 0, 4, 4)).setTo(255);
  two(cv::Rect(3, 3, 4, 4)).setTo(255);  // overlaps the first: later mask wins
  ASSERT_TRUE(cv::imwrite((dir_ / "case" / "masks" / "a.png").string(), one));
  ASSERT_TRUE(cv::imwrite((dir_ / "case" / "masks" / "b.png").string(), two));
  auto folder = ReadGroundTruthLabels((dir_ / "case").string());
  ASSERT_TRUE(folder.ok()) << folder.status().ToString();
  EXPECT_EQ(folder->at<int>(0, 0), 1);
  EXPECT_EQ(folder->at<int>(3, 3), 2);
  EXPECT_EQ(cv::countNonZero(*folder == 1), 15);

  EXPECT_EQ(ReadGroundTruthLabels((dir_ / "missing.png").string()).status().code(),
            StatusCode::kNotFound);
  cv::Mat colour = cv::Mat::zeros(4, 4, CV_8UC3);
  ASSERT_TRUE(cv::imwrite((dir_ / "c.png").string(), colour));
  EXPECT_FALSE(ReadGroundTruthLabels((dir_ / "c.png").string()).ok());
}

TEST_F(GroundTruthTest, FindsLabelsNextToImages) {
  fs::create_directories(dir_ / "images");
  fs::create_directories(dir_ / "labels");
  cv::Mat tiny = cv::Mat::zeros(4, 4, CV_8U);
  ASSERT_TRUE(cv::imwrite((dir_ / "images" / "x.png").string(), tiny));
  ASSERT_TRUE(cv::imwrite((dir_ / "labels" / "x.tif").string(), tiny));
  auto found = FindGroundTruthPath((dir_ / "images" / "x.png").string());
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(fs::path(*found).filename(), "x.tif");
  EXPECT_FALSE(FindGroundTruthPath((dir_ / "images" / "y.png").string()).ok());
}

// The real nuclei ground truth: every label image reads, and scores perfectly against itself.
TEST(GroundTruthRealDataTest, NucleiFolders) {
  const fs::path root = fs::path(testing::SharedDir()) / "data" / "nuclei";
  if (!fs::exists(root)) GTEST_SKIP() << "no shared data";
  int checked = 0;
  for (const char* sub : {"dsb2018/images", "u2os/test/images", "nih3t3/images"}) {
    std::vector<fs::path> images;
    for (const auto& entry : fs::directory_iterator(root / sub)) images.push_back(entry.path());
    std::sort(images.begin(), images.end());
    ASSERT_FALSE(images.empty()) << sub;
    auto path = FindGroundTruthPath(images.front().string());
    ASSERT_TRUE(path.ok()) << path.status().ToString();
    auto labels = ReadGroundTruthLabels(*path);
    ASSERT_TRUE(labels.ok()) << labels.status().ToString();
    const cv::Mat image = cv::imread(images.front().string(), cv::IMREAD_UNCHANGED);
    EXPECT_EQ(labels->size(), image.size()) << *path;
    double max_label = 0;
    cv::minMaxLoc(*labels, nullptr, &max_label);
    EXPECT_GT(max_label, 3) << *path;
    const ImageEvaluation e = Evaluate(*labels, *labels);
    EXPECT_DOUBLE_EQ(e.matches[2].AveragePrecision(), 1.0);
    EXPECT_DOUBLE_EQ(e.aji, 1.0);
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

}  // namespace
}  // namespace seghub::imaging
