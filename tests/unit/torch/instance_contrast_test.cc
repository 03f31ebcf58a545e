// VaryInstanceContrast: objects picked for dimming keep their shape but move towards the
// background by their factor, the background stays where it was, and the augmentation is a
// no-op (drawing nothing from the RNG) when off.
#include "models/instance_contrast.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

namespace seghub::models {
namespace {

constexpr float kBackground = 0.1f, kObject = 0.9f;

// Two bright discs (ids 1 and 2) on a flat background.
void TwoObjects(cv::Mat* ids, cv::Mat* image) {
  *ids = cv::Mat::zeros(64, 96, CV_32SC1);
  cv::circle(*ids, {24, 32}, 12, cv::Scalar(1), -1);
  cv::circle(*ids, {70, 32}, 12, cv::Scalar(2), -1);
  *image = cv::Mat(ids->size(), CV_32FC1, cv::Scalar(kBackground));
  image->setTo(kObject, *ids != 0);
}

TEST(InstanceContrastTest, OffChangesNothingAndDrawsNothing) {
  cv::Mat ids, image;
  TwoObjects(&ids, &image);
  const cv::Mat before = image.clone();
  cv::RNG rng(7);
  const uint64_t state = rng.state;
  ASSERT_TRUE(VaryInstanceContrast(InstanceContrastOptions{}, ids, &rng, &image).ok());
  EXPECT_EQ(cv::norm(image, before, cv::NORM_INF), 0.0);
  EXPECT_EQ(rng.state, state);
}

// Every object dimmed, no edge smoothing: inside each disc the contrast to the background is
// scaled by one factor in [min_factor, 1]; background pixels are untouched.
TEST(InstanceContrastTest, DimmedObjectsMoveTowardsTheBackground) {
  InstanceContrastOptions o;
  o.probability = 1.0;
  o.min_factor = 0.25;
  o.edge_sigma = 0.0;
  bool some_dimmed = false;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    cv::Mat ids, image;
    TwoObjects(&ids, &image);
    cv::RNG rng(seed);
    ASSERT_TRUE(VaryInstanceContrast(o, ids, &rng, &image).ok());
    for (int id = 1; id <= 2; ++id) {
      double lo = 0, hi = 0;
      cv::minMaxLoc(image, &lo, &hi, nullptr, nullptr, ids == id);
      EXPECT_NEAR(lo, hi, 1e-6) << "one factor per object";
      const double factor = (hi - kBackground) / (kObject - kBackground);
      EXPECT_GE(factor, 0.25 - 1e-6);
      EXPECT_LE(factor, 1.0 + 1e-6);
      some_dimmed = some_dimmed || factor < 0.9;
    }
    double lo = 0, hi = 0;
    cv::minMaxLoc(image, &lo, &hi, nullptr, nullptr, ids == 0);
    EXPECT_FLOAT_EQ(static_cast<float>(lo), kBackground);
    EXPECT_FLOAT_EQ(static_cast<float>(hi), kBackground);
  }
  EXPECT_TRUE(some_dimmed);
}

// With edge smoothing the change fades across the edge: just outside a dimmed object the pixel
// moves a little, far away not at all, and the object's centre carries the full factor.
TEST(InstanceContrastTest, EdgeSmoothingFadesOut) {
  InstanceContrastOptions o;
  o.probability = 1.0;
  o.min_factor = 0.2;
  o.edge_sigma = 1.5;
  cv::Mat ids, image;
  TwoObjects(&ids, &image);
  cv::RNG rng(3);
  ASSERT_TRUE(VaryInstanceContrast(o, ids, &rng, &image).ok());
  EXPECT_FLOAT_EQ(image.at<float>(2, 48), kBackground);  // far from both discs
  EXPECT_LT(image.at<float>(32, 24), kObject);           // centre of disc 1: dimmed
}

TEST(InstanceContrastTest, IlluminationFieldKeepsAFlatBackgroundAndVariesObjects) {
  InstanceContrastOptions o;
  o.illumination = 0.5;
  cv::Mat ids, image;
  TwoObjects(&ids, &image);
  cv::RNG rng(11);
  ASSERT_TRUE(VaryInstanceContrast(o, ids, &rng, &image).ok());
  double lo = 0, hi = 0;
  cv::minMaxLoc(image, &lo, &hi, nullptr, nullptr, ids == 0);
  EXPECT_NEAR(lo, kBackground, 1e-6);
  EXPECT_NEAR(hi, kBackground, 1e-6);
  cv::minMaxLoc(image, &lo, &hi, nullptr, nullptr, ids != 0);
  EXPECT_GT(hi - lo, 1e-3) << "the field varies across the crop";
}

TEST(InstanceContrastTest, RefusesBadInput) {
  InstanceContrastOptions o;
  o.probability = 0.5;
  cv::Mat ids, image;
  TwoObjects(&ids, &image);
  cv::RNG rng(1);
  cv::Mat ids16;
  ids.convertTo(ids16, CV_16U);
  EXPECT_FALSE(VaryInstanceContrast(o, ids16, &rng, &image).ok());
  EXPECT_FALSE(VaryInstanceContrast(o, ids(cv::Rect(0, 0, 10, 10)), &rng, &image).ok());
  o.min_factor = 0.0;
  EXPECT_FALSE(VaryInstanceContrast(o, ids, &rng, &image).ok());
  o.min_factor = 0.5;
  o.probability = 1.5;
  EXPECT_FALSE(VaryInstanceContrast(o, ids, &rng, &image).ok());
}

}  // namespace
}  // namespace seghub::models
