#include "imaging/tiling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

namespace seghub::imaging {
namespace {

// Runs `model` tile by tile (on reflection-padded tiles) and blends the outputs.
cv::Mat TileAndStitch(const cv::Mat& image, const TilingOptions& options,
                      const std::function<cv::Mat(const cv::Mat&, int)>& model) {
  const auto tiles = PlanTiles(image.size(), options);
  EXPECT_TRUE(tiles.ok());
  auto blender = TileBlender::Create(image.size(), image.channels(), options);
  EXPECT_TRUE(blender.ok());
  for (size_t i = 0; i < tiles->size(); ++i) {
    const auto tile = ExtractTile(image, (*tiles)[i], options.tile_size);
    EXPECT_TRUE(tile.ok());
    EXPECT_TRUE(blender->Add((*tiles)[i], model(*tile, static_cast<int>(i))).ok());
  }
  const auto out = blender->Finish();
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : cv::Mat();
}

// A smooth probability map: sigmoid of a slowly varying field.
cv::Mat SmoothProbabilities(cv::Size size) {
  cv::Mat m(size, CV_32FC1);
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) {
      const double f = 3.0 * std::sin(x / 23.0) * std::cos(y / 31.0) + 0.01 * (x - y);
      m.at<float>(y, x) = static_cast<float>(1.0 / (1.0 + std::exp(-f)));
    }
  }
  return m;
}

TEST(PlanTilesTest, CoversImageWithEdgeTilesShiftedInward) {
  const TilingOptions options{256, 32};
  const auto tiles = PlanTiles({1000, 700}, options);
  ASSERT_TRUE(tiles.ok());
  // x starts 0, 224, 448, 672, 744; y starts 0, 224, 444.
  ASSERT_EQ(tiles->size(), 15u);
  EXPECT_EQ((*tiles)[4].x, 1000 - 256);
  EXPECT_EQ(tiles->back().y, 700 - 256);
  cv::Mat covered(700, 1000, CV_8UC1, cv::Scalar(0));
  for (const cv::Rect& t : *tiles) {
    EXPECT_EQ(t.size(), cv::Size(256, 256));
    EXPECT_EQ(t & cv::Rect(0, 0, 1000, 700), t);
    covered(t).setTo(1);
  }
  EXPECT_EQ(cv::countNonZero(covered), 1000 * 700);
}

TEST(PlanTilesTest, SmallImageGetsOnePaddedTile) {
  const auto tiles = PlanTiles({100, 80}, {128, 16});
  ASSERT_TRUE(tiles.ok());
  ASSERT_EQ(tiles->size(), 1u);
  EXPECT_EQ((*tiles)[0], cv::Rect(0, 0, 100, 80));
  cv::Mat image(80, 100, CV_32FC1);
  cv::randu(image, 0.0, 1.0);
  const auto tile = ExtractTile(image, (*tiles)[0], 128);
  ASSERT_TRUE(tile.ok());
  EXPECT_EQ(tile->size(), cv::Size(128, 128));
  EXPECT_EQ(tile->at<float>(5, 100), image.at<float>(5, 98));  // reflected, edge not repeated
  EXPECT_EQ(tile->at<float>(80, 3), image.at<float>(78, 3));
}

TEST(PlanTilesTest, RejectsBadOptions) {
  EXPECT_FALSE(PlanTiles({100, 100}, {0, 0}).ok());
  EXPECT_FALSE(PlanTiles({100, 100}, {64, 64}).ok());
  EXPECT_FALSE(PlanTiles({0, 100}, {64, 8}).ok());
  EXPECT_FALSE(TileBlender::Create({-1, 5}, 1, {64, 8}).ok());
}

TEST(TileBlenderTest, IdentityModelReproducesInputExactly) {
  cv::Mat image(301, 257, CV_32FC3);
  cv::randu(image, cv::Scalar::all(-5.0), cv::Scalar::all(5.0));
  const cv::Mat out = TileAndStitch(image, {64, 16}, [](const cv::Mat& t, int) { return t; });
  ASSERT_EQ(out.size(), image.size());
  EXPECT_EQ(cv::norm(out, image, cv::NORM_INF), 0.0);
}

TEST(TileBlenderTest, SmoothProbabilityMapSurvivesTiling) {
  const cv::Mat prob = SmoothProbabilities({530, 411});
  // A pointwise "model" (squaring) must commute with tiling.
  const cv::Mat out = TileAndStitch(prob, {128, 24}, [](const cv::Mat& t, int) {
    cv::Mat sq;
    cv::multiply(t, t, sq);
    return sq;
  });
  cv::Mat expected;
  cv::multiply(prob, prob, expected);
  EXPECT_LT(cv::norm(out, expected, cv::NORM_INF), 1e-6);
}

TEST(TileBlenderTest, TileDisagreementLeavesNoSeam) {
  // Each tile's output is off by a different constant; hard seams would jump by up to 0.04.
  const cv::Mat flat(300, 300, CV_32FC1, cv::Scalar(0.5));
  const cv::Mat out = TileAndStitch(flat, {96, 32}, [](const cv::Mat& t, int i) {
    cv::Mat shifted = t + 0.01 * (i % 5);
    return shifted;
  });
  cv::Mat dx, dy;
  cv::absdiff(out.colRange(1, 300), out.colRange(0, 299), dx);
  cv::absdiff(out.rowRange(1, 300), out.rowRange(0, 299), dy);
  double max_dx = 0, max_dy = 0;
  cv::minMaxLoc(dx, nullptr, &max_dx);
  cv::minMaxLoc(dy, nullptr, &max_dy);
  EXPECT_LT(std::max(max_dx, max_dy), 0.004);
}

TEST(TileBlenderTest, RejectsMismatchedOutputs) {
  auto blender = TileBlender::Create({100, 100}, 1, {64, 8});
  ASSERT_TRUE(blender.ok());
  EXPECT_FALSE(blender->Add({0, 0, 64, 64}, cv::Mat(10, 10, CV_32FC1)).ok());
  EXPECT_FALSE(blender->Add({0, 0, 64, 64}, cv::Mat(64, 64, CV_32FC3)).ok());
  EXPECT_FALSE(blender->Add({50, 50, 64, 64}, cv::Mat(64, 64, CV_32FC1)).ok());
  EXPECT_EQ(blender->Finish().status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace seghub::imaging
