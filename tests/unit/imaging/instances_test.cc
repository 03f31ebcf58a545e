#include "imaging/instances.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <set>

#include "imaging/decode.h"
#include "imaging/polygons.h"
#include "test_util.h"

namespace seghub::imaging {
namespace {

std::set<int> Labels(const cv::Mat& labels) {
  std::set<int> s;
  for (int y = 0; y < labels.rows; ++y) {
    for (int x = 0; x < labels.cols; ++x) {
      if (labels.at<int>(y, x) > 0) s.insert(labels.at<int>(y, x));
    }
  }
  return s;
}

TEST(InstancesTest, SplitsTwoTouchingDiscs) {
  cv::Mat mask = cv::Mat::zeros(100, 140, CV_8UC1);
  cv::circle(mask, {45, 50}, 28, cv::Scalar(255), cv::FILLED);
  cv::circle(mask, {95, 50}, 28, cv::Scalar(255), cv::FILLED);
  const auto labels = SeparateInstances(mask);
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_EQ(Labels(*labels).size(), 2u);
  // Every foreground pixel is labelled, and only those.
  EXPECT_EQ(cv::countNonZero(*labels > 0), cv::countNonZero(mask));
  EXPECT_EQ(cv::countNonZero((*labels > 0) != (mask > 0)), 0);
  // The split runs through the neck at x = 70.
  EXPECT_NE(labels->at<int>(50, 45), labels->at<int>(50, 95));
  const auto polys = PolygonsFromLabels(*labels, cv::Mat(), {});
  ASSERT_TRUE(polys.ok());
  ASSERT_EQ(polys->size(), 2u);
  EXPECT_NEAR((*polys)[0].area, (*polys)[1].area, 0.05 * (*polys)[0].area);
}

// A peanut (two discs 30 px apart, neck half-width 23.6 px = 0.84 of the radius) is one object
// with two distance peaks; the touching pair of the test above has a neck of 0.45 radii.
TEST(InstancesTest, SaddleRatioMergesBroadNecksButNotNarrowOnes) {
  cv::Mat mask = cv::Mat::zeros(100, 300, CV_8UC1);
  cv::circle(mask, {45, 50}, 28, cv::Scalar(255), cv::FILLED);
  cv::circle(mask, {95, 50}, 28, cv::Scalar(255), cv::FILLED);
  cv::circle(mask, {190, 50}, 28, cv::Scalar(255), cv::FILLED);
  cv::circle(mask, {220, 50}, 28, cv::Scalar(255), cv::FILLED);
  const auto split = SeparateInstances(mask);
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(Labels(*split).size(), 4u);  // distance peaks alone split the peanut too

  InstanceOptions o;
  o.saddle_ratio = 0.7;
  const auto merged = SeparateInstances(mask, o);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(Labels(*merged), (std::set<int>{1, 2, 3}));  // renumbered 1..N
  EXPECT_NE(merged->at<int>(50, 45), merged->at<int>(50, 95));
  EXPECT_EQ(merged->at<int>(50, 190), merged->at<int>(50, 220));
  EXPECT_EQ(cv::countNonZero(*merged > 0), cv::countNonZero(mask));

  o.saddle_ratio = 1.5;
  EXPECT_FALSE(SeparateInstances(mask, o).ok());
}

// The peanut the saddle merge keeps whole above is split when the model marks two cores; an
// object without a core stays one instance, and a speck of core under min_core_area seeds nothing.
TEST(InstancesTest, CoresSeedOneInstanceEach) {
  cv::Mat prob = cv::Mat::zeros(100, 300, CV_32FC1), cores = prob.clone();
  cv::circle(prob, {190, 50}, 28, cv::Scalar(0.9), cv::FILLED);
  cv::circle(prob, {220, 50}, 28, cv::Scalar(0.9), cv::FILLED);
  cv::circle(cores, {185, 50}, 8, cv::Scalar(0.8), cv::FILLED);
  cv::circle(cores, {225, 50}, 8, cv::Scalar(0.8), cv::FILLED);
  cv::circle(prob, {60, 50}, 25, cv::Scalar(0.9), cv::FILLED);  // no core
  cores(cv::Rect(58, 20, 1, 2)).setTo(0.9);                     // 2 px: ignored
  InstanceOptions o;
  o.saddle_ratio = 0.0;
  const auto labels = SeparateInstancesFromCores(prob, cores, o);
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_EQ(Labels(*labels).size(), 3u);
  EXPECT_NE(labels->at<int>(50, 185), labels->at<int>(50, 225));
  EXPECT_EQ(labels->at<int>(50, 60), labels->at<int>(25, 60));
  EXPECT_EQ(cv::countNonZero(*labels > 0), cv::countNonZero(prob > 0.5));
  // The split runs along the neck: each side keeps its own disc's far half.
  EXPECT_EQ(labels->at<int>(50, 165), labels->at<int>(50, 185));
  EXPECT_EQ(labels->at<int>(50, 245), labels->at<int>(50, 225));

  InstanceOptions merge;
  merge.saddle_ratio = 0.7;
  const auto peaks = SeparateInstancesFromProbabilities(prob, merge);
  ASSERT_TRUE(peaks.ok());
  EXPECT_EQ(Labels(*peaks).size(), 2u);  // the distance alone cannot tell the peanut is two

  EXPECT_FALSE(SeparateInstancesFromCores(prob, cores(cv::Rect(0, 0, 10, 10)), o).ok());
  EXPECT_FALSE(SeparateInstancesFromCores(prob, cv::Mat(), o).ok());
}

TEST(InstancesTest, KeepsSingleAndSmallObjectsWhole) {
  cv::Mat mask = cv::Mat::zeros(100, 100, CV_8UC1);
  cv::circle(mask, {40, 40}, 25, cv::Scalar(255), cv::FILLED);
  cv::rectangle(mask, cv::Rect(80, 80, 3, 3), cv::Scalar(255), cv::FILLED);  // peak below 2 px
  const auto labels = SeparateInstances(mask);
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(Labels(*labels).size(), 2u);
  EXPECT_EQ(cv::countNonZero(*labels > 0), cv::countNonZero(mask));
}

// A dim small blob that never reaches the threshold becomes an object with low_threshold; two
// bright blobs joined by a dim bridge stay two, and keep the threshold's extent.
TEST(InstancesTest, LowThresholdAddsDimObjectsOnly) {
  cv::Mat prob(60, 100, CV_32FC1, cv::Scalar(0.05));
  cv::circle(prob, {20, 30}, 10, cv::Scalar(0.9), cv::FILLED);
  cv::circle(prob, {50, 30}, 10, cv::Scalar(0.9), cv::FILLED);
  cv::rectangle(prob, cv::Rect(29, 28, 13, 4), cv::Scalar(0.4), cv::FILLED);  // dim bridge
  cv::circle(prob, {85, 15}, 3, cv::Scalar(0.4), cv::FILLED);                 // dim small nucleus
  InstanceOptions o;
  o.min_distance = 4;
  auto plain = SeparateInstancesFromProbabilities(prob, o);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->at<int>(15, 85), 0);
  EXPECT_EQ(Labels(*plain).size(), 2u);
  o.low_threshold = 0.3f;
  auto low = SeparateInstancesFromProbabilities(prob, o);
  ASSERT_TRUE(low.ok()) << low.status().ToString();
  EXPECT_EQ(Labels(*low).size(), 3u);
  EXPECT_GT(low->at<int>(15, 85), 0);
  EXPECT_EQ(low->at<int>(29, 35), 0) << "the bridge reaches the threshold: not added";
  EXPECT_EQ(cv::countNonZero(*low > 0) - cv::countNonZero(*plain > 0),
            cv::countNonZero(prob(cv::Rect(80, 10, 11, 11)) > 0.3f));
  o.low_threshold = 0.5f;
  EXPECT_FALSE(SeparateInstancesFromProbabilities(prob, o).ok());
}

TEST(InstancesTest, EmptyMaskGivesNoInstances) {
  const auto labels = SeparateInstances(cv::Mat::zeros(20, 20, CV_8UC1));
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(cv::countNonZero(*labels), 0);
  EXPECT_FALSE(SeparateInstances(cv::Mat(4, 4, CV_32FC1)).ok());
}

TEST(InstancesTest, RealDsbLabelImageGivesOnePolygonPerNucleus) {
  const auto bytes =
      testing::ReadBytes(testing::SharedDir() +
                         "/data/nuclei/dsb2018/labels/"
                         "0114f484a16c152baa2d82fdd43740880a762c93f436c8988ac461c5c9dbe7d5.png");
  if (bytes.empty()) GTEST_SKIP() << "shared data not present";
  const auto decoded = DecodeImage(bytes);
  ASSERT_TRUE(decoded.ok());
  cv::Mat labels32;
  decoded->pixels.convertTo(labels32, CV_32S);
  const size_t instances = Labels(labels32).size();
  PolygonOptions options;
  options.min_area = 0;
  const auto polys = PolygonsFromLabels(decoded->pixels, cv::Mat(), options);
  ASSERT_TRUE(polys.ok()) << polys.status().ToString();
  size_t externals = 0;
  for (const Polygon& p : *polys) externals += p.type == PolygonType::kExternal;
  // Only instances of < 3 contour points (1-2 px specks) may be missing.
  EXPECT_LE(externals, instances);
  EXPECT_GE(externals, instances * 95 / 100);

  // The binary union split again by the watershed lands near the true count.
  const auto split = SeparateInstances(labels32 > 0);
  ASSERT_TRUE(split.ok());
  const double found = static_cast<double>(Labels(*split).size());
  EXPECT_NEAR(found, static_cast<double>(instances), 0.25 * instances);
}

}  // namespace
}  // namespace seghub::imaging
