#include "imaging/polygons.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

namespace seghub::imaging {
namespace {

// Probability map: `inside` on the drawn shapes, `outside` elsewhere.
cv::Mat ProbabilityOf(const cv::Mat& mask, float inside, float outside) {
  cv::Mat p(mask.size(), CV_32FC1, cv::Scalar(outside));
  p.setTo(inside, mask);
  return p;
}

cv::Mat Disc(cv::Size size, cv::Point c, int r) {
  cv::Mat m = cv::Mat::zeros(size, CV_8UC1);
  cv::circle(m, c, r, cv::Scalar(255), cv::FILLED);
  return m;
}

TEST(PolygonsTest, DiscGivesOneExternalWithItsMeanProbability) {
  const cv::Mat mask = Disc({100, 100}, {50, 50}, 30);
  const auto polys = PolygonsFromProbabilities(ProbabilityOf(mask, 0.9f, 0.1f));
  ASSERT_TRUE(polys.ok()) << polys.status().ToString();
  ASSERT_EQ(polys->size(), 1u);
  const Polygon& p = (*polys)[0];
  EXPECT_EQ(p.id, 1);
  EXPECT_EQ(p.type, PolygonType::kExternal);
  EXPECT_FALSE(p.parent_id);
  EXPECT_NEAR(p.confidence, 0.9, 1e-6);
  EXPECT_NEAR(p.area, CV_PI * 30 * 30, 0.05 * CV_PI * 30 * 30);
  EXPECT_DOUBLE_EQ(p.area, cv::contourArea(p.points));
}

TEST(PolygonsTest, ThresholdIsStrictlyGreater) {
  const cv::Mat mask = Disc({60, 60}, {30, 30}, 20);
  PolygonOptions options;
  options.threshold = 0.5f;
  EXPECT_TRUE(PolygonsFromProbabilities(ProbabilityOf(mask, 0.5f, 0.0f), options)->empty());
  EXPECT_EQ(PolygonsFromProbabilities(ProbabilityOf(mask, 0.51f, 0.0f), options)->size(), 1u);
}

TEST(PolygonsTest, RingHasHoleWithParentAndConfidenceExcludesHole) {
  cv::Mat ring = Disc({120, 120}, {60, 60}, 45);
  const cv::Mat hole = Disc({120, 120}, {60, 60}, 15);
  ring.setTo(0, hole);
  cv::Mat prob = ProbabilityOf(ring, 0.8f, 0.0f);
  prob.setTo(0.3f, hole);  // below threshold, but would lower a mean that included it
  const auto polys = PolygonsFromProbabilities(prob);
  ASSERT_TRUE(polys.ok());
  ASSERT_EQ(polys->size(), 2u);
  const Polygon& outer = (*polys)[0];
  const Polygon& inner = (*polys)[1];
  EXPECT_EQ(outer.type, PolygonType::kExternal);
  EXPECT_EQ(inner.type, PolygonType::kInternal);
  ASSERT_TRUE(inner.parent_id);
  EXPECT_EQ(*inner.parent_id, outer.id);
  EXPECT_NEAR(outer.confidence, 0.8, 1e-6);
  EXPECT_NEAR(inner.area, CV_PI * 15 * 15, 0.15 * CV_PI * 15 * 15);

  PolygonOptions no_holes;
  no_holes.detect_holes = false;
  const auto filled = PolygonsFromProbabilities(prob, no_holes);
  ASSERT_EQ(filled->size(), 1u);
  EXPECT_LT((*filled)[0].confidence, 0.79);  // the filled polygon includes the hole

  const auto groups = GroupHoles(*polys);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].holes, std::vector<size_t>{1});
}

TEST(PolygonsTest, ObjectInsideHoleIsExternal) {
  cv::Mat m = Disc({120, 120}, {60, 60}, 50);
  m.setTo(0, Disc({120, 120}, {60, 60}, 30));
  m.setTo(255, Disc({120, 120}, {60, 60}, 10));
  const auto polys = PolygonsFromMask(m, cv::Mat(), {});
  ASSERT_TRUE(polys.ok());
  int externals = 0, internals = 0;
  for (const Polygon& p : *polys) (p.type == PolygonType::kExternal ? externals : internals)++;
  EXPECT_EQ(externals, 2);
  EXPECT_EQ(internals, 1);
}

TEST(PolygonsTest, DropsSmallContours) {
  cv::Mat m = cv::Mat::zeros(60, 60, CV_8UC1);
  m(cv::Rect(2, 2, 8, 8)).setTo(255);     // contour area 7x7 = 49 < 50: dropped
  m(cv::Rect(20, 20, 9, 9)).setTo(255);   // 8x8 = 64: kept
  m(cv::Rect(40, 40, 1, 15)).setTo(255);  // a line: a 2-point contour
  const auto polys = PolygonsFromMask(m, cv::Mat(), {});
  ASSERT_TRUE(polys.ok());
  ASSERT_EQ(polys->size(), 1u);
  EXPECT_DOUBLE_EQ((*polys)[0].area, 64.0);
  PolygonOptions keep_all;
  keep_all.min_area = 0;
  // Without an area limit the small square stays; the 2-point line never does.
  EXPECT_EQ(PolygonsFromMask(m, cv::Mat(), keep_all)->size(), 2u);
}

TEST(PolygonsTest, ObjectsTouchingTheBorderKeepTheirBorderPixels) {
  cv::Mat m = cv::Mat::zeros(40, 40, CV_8UC1);
  m(cv::Rect(0, 0, 20, 40)).setTo(255);
  const auto polys = PolygonsFromMask(m, cv::Mat(), {});
  ASSERT_EQ(polys->size(), 1u);
  const cv::Rect box = cv::boundingRect((*polys)[0].points);
  EXPECT_EQ(box, cv::Rect(0, 0, 20, 40));
  EXPECT_DOUBLE_EQ((*polys)[0].area, 19.0 * 39.0);
}

TEST(PolygonsTest, SimplificationReducesPoints) {
  const cv::Mat mask = Disc({200, 200}, {100, 100}, 80);
  const auto raw = PolygonsFromMask(mask, cv::Mat(), {});
  PolygonOptions simple;
  simple.simplify_epsilon = 2.0;
  const auto simplified = PolygonsFromMask(mask, cv::Mat(), simple);
  ASSERT_TRUE(raw.ok() && simplified.ok());
  EXPECT_LT((*simplified)[0].points.size(), (*raw)[0].points.size() / 2);
  EXPECT_NEAR((*simplified)[0].area, (*raw)[0].area, 0.02 * (*raw)[0].area);
}

TEST(PolygonsTest, LabelsGiveOnePolygonPerInstance) {
  cv::Mat labels = cv::Mat::zeros(50, 80, CV_32SC1);
  labels(cv::Rect(5, 5, 30, 30)).setTo(1);
  labels(cv::Rect(35, 5, 30, 30)).setTo(2);  // touching instance 1
  labels(cv::Rect(70, 40, 8, 8)).setTo(2);   // a fragment of 2: not a second polygon
  const auto polys = PolygonsFromLabels(labels, cv::Mat(), {});
  ASSERT_TRUE(polys.ok()) << polys.status().ToString();
  ASSERT_EQ(polys->size(), 2u);
  EXPECT_DOUBLE_EQ((*polys)[0].area, 29.0 * 29.0);
  EXPECT_DOUBLE_EQ((*polys)[1].area, 29.0 * 29.0);
  EXPECT_EQ(cv::boundingRect((*polys)[1].points), cv::Rect(35, 5, 30, 30));
}

TEST(PolygonsTest, JsonMatchesHubShape) {
  cv::Mat m = cv::Mat::zeros(60, 60, CV_8UC1);
  m(cv::Rect(10, 10, 40, 40)).setTo(255);
  m(cv::Rect(20, 20, 15, 15)).setTo(0);
  const auto polys = PolygonsFromMask(m, cv::Mat(), {});
  ASSERT_EQ(polys->size(), 2u);
  const nlohmann::json j = ToJson(*polys);
  ASSERT_TRUE(j.is_array());
  EXPECT_EQ(j[0]["type"], "external");
  EXPECT_FALSE(j[0].contains("parent_id"));
  EXPECT_EQ(j[0]["class"], "spheroid");
  EXPECT_EQ(j[0]["points"][0]["x"].type(), nlohmann::json::value_t::number_integer);
  EXPECT_EQ(j[1]["type"], "internal");
  EXPECT_EQ(j[1]["parent_id"], j[0]["id"]);
  for (const char* key : {"id", "points", "type", "class", "confidence", "area"}) {
    EXPECT_TRUE(j[1].contains(key)) << key;
  }
}

TEST(PolygonsTest, RejectsBadInput) {
  EXPECT_FALSE(PolygonsFromProbabilities(cv::Mat(5, 5, CV_8UC1)).ok());
  EXPECT_FALSE(PolygonsFromMask(cv::Mat(5, 5, CV_32FC1), cv::Mat(), {}).ok());
  EXPECT_FALSE(PolygonsFromMask(cv::Mat(5, 5, CV_8UC1), cv::Mat(4, 4, CV_32FC1), {}).ok());
  EXPECT_FALSE(PolygonsFromLabels(cv::Mat(5, 5, CV_8UC1), cv::Mat(), {}).ok());
}

}  // namespace
}  // namespace seghub::imaging
