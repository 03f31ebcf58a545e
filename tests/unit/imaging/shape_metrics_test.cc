#include "imaging/shape_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgproc.hpp>

namespace seghub::imaging {
namespace {

using Ring = std::vector<cv::Point2f>;

// The outer contour and holes of the single object drawn in `mask`.
struct Shape {
  Ring outer;
  std::vector<Ring> holes;
};

Shape ShapeOf(const cv::Mat& mask) {
  PolygonOptions options;
  options.min_area = 0;
  const auto polys = PolygonsFromMask(mask, cv::Mat(), options);
  EXPECT_TRUE(polys.ok());
  Shape s;
  for (const Polygon& p : *polys) {
    if (p.type == PolygonType::kExternal) s.outer = p.points;
    if (p.type == PolygonType::kInternal) s.holes.push_back(p.points);
  }
  return s;
}

cv::Mat Canvas() { return cv::Mat::zeros(300, 300, CV_8UC1); }

TEST(ShapeMetricsTest, SquareHasExactAnswers) {
  const Ring square = {{0, 0}, {100, 0}, {100, 100}, {0, 100}};
  const auto m = ComputeShapeMetrics(square, {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_DOUBLE_EQ(m->area, 10000);
  EXPECT_DOUBLE_EQ(m->perimeter, 400);
  EXPECT_DOUBLE_EQ(m->perimeter_with_holes, 400);
  EXPECT_NEAR(m->equivalent_diameter, std::sqrt(40000 / CV_PI), 1e-9);
  EXPECT_NEAR(m->circularity, CV_PI / 4, 1e-12);
  EXPECT_NEAR(m->compactness, 4 / CV_PI, 1e-12);
  EXPECT_NEAR(m->sphericity, CV_PI * std::sqrt(40000 / CV_PI) / 400, 1e-12);
  EXPECT_DOUBLE_EQ(m->convexity, 1);
  EXPECT_DOUBLE_EQ(m->solidity, 1);
  EXPECT_DOUBLE_EQ(m->bounding_box_width, 101);  // cv::boundingRect is pixel-inclusive
  EXPECT_DOUBLE_EQ(m->extent, 10000.0 / (101 * 101));
  EXPECT_DOUBLE_EQ(m->feret_diameter_max, 100);
  EXPECT_DOUBLE_EQ(m->feret_diameter_min, 100);
  EXPECT_DOUBLE_EQ(m->feret_aspect_ratio, 1);
  EXPECT_DOUBLE_EQ(m->length_major_diameter_through_centroid, 0);  // 4 points < 5
}

TEST(ShapeMetricsTest, RasterisedDiscMatchesGeometryAndOpenCv) {
  cv::Mat mask = Canvas();
  cv::circle(mask, {150, 150}, 80, cv::Scalar(255), cv::FILLED);
  const Shape s = ShapeOf(mask);
  const auto m = ComputeShapeMetrics(s.outer, {});
  ASSERT_TRUE(m.ok());
  // Contours run through boundary pixel centres: the effective radius is about 80.
  EXPECT_NEAR(m->area, CV_PI * 80 * 80, 0.02 * CV_PI * 80 * 80);
  EXPECT_NEAR(m->perimeter, 2 * CV_PI * 80, 0.02 * 2 * CV_PI * 80);
  EXPECT_GT(m->circularity, 0.97);
  EXPECT_LT(m->compactness, 1.03);
  EXPECT_GT(m->solidity, 0.98);
  EXPECT_NEAR(m->feret_diameter_max, 160, 2);
  EXPECT_NEAR(m->feret_aspect_ratio, 1, 0.03);
  EXPECT_NEAR(m->length_major_diameter_through_centroid, 160, 2);
  EXPECT_NEAR(m->length_minor_diameter_through_centroid, 160, 2);
  EXPECT_NEAR(m->extent, CV_PI / 4, 0.02);
  // Exactly the OpenCV quantities the formulas name.
  EXPECT_DOUBLE_EQ(m->area, cv::contourArea(s.outer));
  Ring simplified, hull;
  cv::approxPolyDP(s.outer, simplified, 2.0, true);
  EXPECT_DOUBLE_EQ(m->perimeter, cv::arcLength(simplified, true));
  cv::convexHull(s.outer, hull);
  EXPECT_DOUBLE_EQ(m->solidity, m->area / cv::contourArea(hull));
  EXPECT_DOUBLE_EQ(m->convexity, cv::arcLength(hull, true) / m->perimeter);
  const cv::RotatedRect rect = cv::minAreaRect(s.outer);
  EXPECT_DOUBLE_EQ(m->feret_diameter_min, std::min(rect.size.width, rect.size.height));
}

TEST(ShapeMetricsTest, RingSubtractsHoleAndAddsItsPerimeter) {
  cv::Mat mask = Canvas();
  cv::circle(mask, {150, 150}, 100, cv::Scalar(255), cv::FILLED);
  cv::circle(mask, {150, 150}, 40, cv::Scalar(0), cv::FILLED);
  const Shape s = ShapeOf(mask);
  ASSERT_EQ(s.holes.size(), 1u);
  const auto m = ComputeShapeMetrics(s.outer, s.holes);
  ASSERT_TRUE(m.ok());
  const double expected_area = CV_PI * (100 * 100 - 41 * 41);  // the hole contour lies outside it
  EXPECT_NEAR(m->area, expected_area, 0.02 * expected_area);
  EXPECT_DOUBLE_EQ(m->area, cv::contourArea(s.outer) - cv::contourArea(s.holes[0]));
  EXPECT_NEAR(m->perimeter_with_holes, 2 * CV_PI * 141, 0.03 * 2 * CV_PI * 141);
  EXPECT_NEAR(m->circularity,
              4 * CV_PI * m->area / (m->perimeter_with_holes * m->perimeter_with_holes), 1e-12);
  EXPECT_LT(m->circularity, 0.9);  // the hole lowers it, unlike a disc
  EXPECT_LT(m->solidity, 0.9);     // the hull does not know the hole
}

TEST(ShapeMetricsTest, RotatedEllipseAxes) {
  cv::Mat mask = Canvas();
  cv::ellipse(mask, {150, 150}, {100, 40}, 30, 0, 360, cv::Scalar(255), cv::FILLED);
  const Shape s = ShapeOf(mask);
  const auto m = ComputeShapeMetrics(s.outer, {});
  ASSERT_TRUE(m.ok());
  EXPECT_NEAR(m->length_major_diameter_through_centroid, 200, 3);
  EXPECT_NEAR(m->length_minor_diameter_through_centroid, 80, 3);
  EXPECT_NEAR(m->feret_diameter_max, 200, 3);
  EXPECT_NEAR(m->feret_diameter_min, 80, 3);
  EXPECT_NEAR(m->feret_aspect_ratio, 2.5, 0.1);
  EXPECT_NEAR(m->area, CV_PI * 100 * 40, 0.03 * CV_PI * 100 * 40);
}

TEST(ShapeMetricsTest, MicrometreScaling) {
  const Ring square = {{0, 0}, {100, 0}, {100, 50}, {0, 50}};
  const auto px = ComputeShapeMetrics(square, {});
  const auto um = ComputeShapeMetrics(square, {}, 0.5);
  ASSERT_TRUE(px.ok() && um.ok());
  EXPECT_DOUBLE_EQ(um->area, px->area * 0.25);
  EXPECT_DOUBLE_EQ(um->perimeter, px->perimeter * 0.5);
  EXPECT_DOUBLE_EQ(um->feret_diameter_max, px->feret_diameter_max * 0.5);
  EXPECT_DOUBLE_EQ(um->bounding_box_height, px->bounding_box_height * 0.5);
  EXPECT_DOUBLE_EQ(um->circularity, px->circularity);
  EXPECT_DOUBLE_EQ(um->feret_aspect_ratio, 2.0);
}

TEST(ShapeMetricsTest, JsonRequestAndHubKeys) {
  const nlohmann::json request = {{"contour", {{0, 0}, {20, 0}, {20, 20}, {0, 20}}},
                                  {"holes", {{{5, 5}, {10, 5}, {10, 10}, {5, 10}}}}};
  const auto m = ComputeShapeMetricsFromJson(request);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_DOUBLE_EQ(m->area, 375);
  EXPECT_DOUBLE_EQ(m->perimeter_with_holes, 100);
  const nlohmann::json j = ToJson(*m);
  const std::vector<std::string> keys = {"Area",
                                         "Perimeter",
                                         "PerimeterWithHoles",
                                         "EquivalentDiameter",
                                         "Circularity",
                                         "Compactness",
                                         "Sphericity",
                                         "Convexity",
                                         "Solidity",
                                         "Extent",
                                         "FeretDiameterMax",
                                         "FeretDiameterMin",
                                         "FeretAspectRatio",
                                         "FeretDiameterMaxOrthogonalDistance",
                                         "LengthMajorDiameterThroughCentroid",
                                         "LengthMinorDiameterThroughCentroid",
                                         "BoundingBoxWidth",
                                         "BoundingBoxHeight"};
  EXPECT_EQ(j.size(), keys.size());
  for (const std::string& k : keys) EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_DOUBLE_EQ(j["Area"].get<double>(), 375);
}

TEST(ShapeMetricsTest, TinyHoleCollapsesUnderTheHubsSimplification) {
  // DP with ε = 2 reduces a 2×2 hole to a degenerate ring: its perimeter counts 2·√8, not 8.
  const auto m = ComputeShapeMetrics(Ring{{0, 0}, {20, 0}, {20, 20}, {0, 20}},
                                     {Ring{{2, 2}, {4, 2}, {4, 4}, {2, 4}}});
  ASSERT_TRUE(m.ok());
  EXPECT_DOUBLE_EQ(m->area, 396);
  EXPECT_NEAR(m->perimeter_with_holes, 80 + 2 * std::sqrt(8.0), 1e-5);  // float arcLength
}

TEST(ShapeMetricsTest, RejectsDegenerateInput) {
  EXPECT_FALSE(ComputeShapeMetrics(Ring{{0, 0}, {1, 1}}, {}).ok());
  EXPECT_FALSE(ComputeShapeMetrics(Ring{{0, 0}, {1, 1}, {2, 2}}, {}).ok());  // collinear
  EXPECT_FALSE(ComputeShapeMetrics(Ring{{0, 0}, {1, 0}, {NAN, 1}}, {}).ok());
  EXPECT_FALSE(ComputeShapeMetrics(Ring{{0, 0}, {9, 0}, {0, 9}}, {}, 0.0).ok());
  EXPECT_FALSE(ComputeShapeMetricsFromJson({{"contour", "nope"}}).ok());
  EXPECT_FALSE(ComputeShapeMetricsFromJson({{"contour", {{0, 0}, {1, "x"}, {2, 2}}}}).ok());
  EXPECT_FALSE(ComputeShapeMetricsFromJson(nlohmann::json::array()).ok());
}

}  // namespace
}  // namespace seghub::imaging
