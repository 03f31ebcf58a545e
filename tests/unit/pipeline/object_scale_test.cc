#include "pipeline/object_scale.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <opencv2/imgproc.hpp>

namespace seghub::pipeline {
namespace {

cv::Mat DiscLabels(cv::Size size, const std::vector<std::pair<cv::Point, int>>& discs) {
  cv::Mat labels = cv::Mat::zeros(size, CV_32SC1);
  int id = 1;
  for (const auto& [c, r] : discs) cv::circle(labels, c, r, cv::Scalar(id++), cv::FILLED);
  return labels;
}

TEST(ObjectScaleTest, AreaWeightedMedianDiameterOfDiscs) {
  // Radii 5, 6 and 7 (raster areas ~80, ~113, ~149): the median foreground pixel lies in the
  // 6 px disc, equivalent diameter ~12.
  cv::Mat labels = DiscLabels({200, 100}, {{{20, 20}, 5}, {{60, 20}, 6}, {{140, 50}, 7}});
  EXPECT_NEAR(MedianObjectDiameter(labels, 0), 12.0, 0.8);
  // With min_area 120 px² only the 7 px disc is left: too few objects for an estimate.
  EXPECT_EQ(MedianObjectDiameter(labels, 120), 0);
  EXPECT_EQ(MedianObjectDiameter(cv::Mat::zeros(50, 50, CV_32SC1), 0), 0);
  // Ten 2 px fragments beside two 20 px discs: the discs hold most pixels, so ~40, where the
  // plain median of the twelve would say ~4.
  std::vector<std::pair<cv::Point, int>> discs = {{{50, 50}, 20}, {{150, 50}, 20}};
  for (int i = 0; i < 10; ++i) discs.push_back({{10 + 18 * i, 92}, 2});
  EXPECT_NEAR(MedianObjectDiameter(DiscLabels({200, 100}, discs), 0), 40.0, 1.5);
}

TEST(ObjectScaleTest, ChooseScaleClampsAndSkipsSmallChanges) {
  engine::InputSpec in;
  EXPECT_EQ(ChooseScale(in, 10, 1e6, 1e8), 1) << "object_diameter 0: off";
  in.object_diameter = 30;
  in.max_scale = 4;
  EXPECT_DOUBLE_EQ(ChooseScale(in, 10, 1e6, 1e8), 3);
  EXPECT_DOUBLE_EQ(ChooseScale(in, 5, 1e6, 1e8), 4) << "clamped to max_scale";
  EXPECT_EQ(ChooseScale(in, 26, 1e6, 1e8), 1) << "30/26 < 1.25: not worth a pass";
  EXPECT_EQ(ChooseScale(in, 0, 1e6, 1e8), 1) << "no estimate";
  EXPECT_EQ(ChooseScale(in, 90, 1e6, 1e8), 1) << "min_scale 1: never shrinks by default";
  in.min_scale = 0.25;
  EXPECT_DOUBLE_EQ(ChooseScale(in, 90, 1e6, 1e8), 1.0 / 3);
  // The pixel limit caps the factor: 1e6 px may grow to 4e6 (2x), and 1.1x is not worth it.
  EXPECT_DOUBLE_EQ(ChooseScale(in, 10, 1e6, 4e6), 2);
  EXPECT_EQ(ChooseScale(in, 10, 1e6, 1.21e6), 1);
}

TEST(ObjectScaleTest, ResizeLabelsKeepsIds) {
  cv::Mat labels = DiscLabels({90, 60}, {{{20, 20}, 12}, {{60, 30}, 15}});
  cv::Mat big = ResizeLabels(labels, {270, 180});
  cv::Mat back = ResizeLabels(big, labels.size());
  EXPECT_EQ(cv::countNonZero(back != labels), 0);
  double lo, hi;
  cv::minMaxLoc(big, &lo, &hi);
  EXPECT_EQ(hi, 2);
  EXPECT_EQ(big.type(), CV_32SC1);
}

}  // namespace
}  // namespace seghub::pipeline
