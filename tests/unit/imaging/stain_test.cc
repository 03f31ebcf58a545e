// Stain separation: an H&E-like photo is recognised and its haematoxylin density is high on the
// purple nuclei, low on pink cytoplasm and glass; grey and fluorescence images are left alone.
#include "imaging/stain.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "imaging/normalize.h"

namespace seghub::imaging {
namespace {

// RGB: white glass, a pink (eosin) region and two purple (haematoxylin) nuclei inside it.
cv::Mat HeLikePhoto() {
  cv::Mat rgb(80, 120, CV_8UC3, cv::Scalar(240, 238, 242));
  cv::rectangle(rgb, {10, 10}, {70, 70}, cv::Scalar(225, 140, 190), -1);  // pink cytoplasm
  cv::circle(rgb, {30, 40}, 9, cv::Scalar(90, 60, 150), -1);              // purple nucleus
  cv::circle(rgb, {52, 40}, 9, cv::Scalar(120, 90, 170), -1);             // paler nucleus
  return rgb;
}

TEST(StainTest, RecognisesStainedBrightField) {
  EXPECT_TRUE(LooksStained(HeLikePhoto()));
  cv::Mat deep;
  HeLikePhoto().convertTo(deep, CV_16U, 257.0);
  EXPECT_TRUE(LooksStained(deep));
}

TEST(StainTest, LeavesGreyAndFluorescenceAlone) {
  cv::Mat grey_rgb;
  cv::cvtColor(HeLikePhoto(), grey_rgb, cv::COLOR_RGB2GRAY);
  cv::cvtColor(grey_rgb, grey_rgb, cv::COLOR_GRAY2RGB);
  EXPECT_FALSE(LooksStained(grey_rgb)) << "no colour";
  cv::Mat fluorescence(80, 120, CV_8UC3, cv::Scalar(0, 0, 10));
  cv::circle(fluorescence, {40, 40}, 10, cv::Scalar(0, 0, 220), -1);
  EXPECT_FALSE(LooksStained(fluorescence)) << "dark background";
  EXPECT_FALSE(LooksStained(cv::Mat(10, 10, CV_8UC1, cv::Scalar(200)))) << "one channel";
}

TEST(StainTest, HaematoxylinIsHighOnNucleiOnly) {
  auto h = HaematoxylinDensity(HeLikePhoto());
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_EQ(h->type(), CV_32FC1);
  const float glass = h->at<float>(75, 110), cytoplasm = h->at<float>(15, 65);
  const float nucleus = h->at<float>(40, 30), pale = h->at<float>(40, 52);
  EXPECT_LT(glass, 0.05f);
  EXPECT_GT(nucleus, 4 * cytoplasm);
  EXPECT_GT(pale, 2 * cytoplasm);
  EXPECT_GT(nucleus, pale);
  EXPECT_FALSE(HaematoxylinDensity(cv::Mat(4, 4, CV_8UC1)).ok());
  EXPECT_FALSE(HaematoxylinDensity(cv::Mat(4, 4, CV_32FC3)).ok());
}

// ModelChannels: stain separation only when asked, for one-channel models and stained photos.
TEST(StainTest, ModelChannelsChoosesThePath) {
  const cv::Mat rgb = HeLikePhoto();
  auto stained = ModelChannels(rgb, 1, true);
  ASSERT_TRUE(stained.ok());
  EXPECT_EQ(stained->type(), CV_32FC1);
  auto grey = ModelChannels(rgb, 1, false);
  ASSERT_TRUE(grey.ok());
  EXPECT_EQ(grey->type(), CV_8UC1);
  auto colour = ModelChannels(rgb, 3, true);
  ASSERT_TRUE(colour.ok());
  EXPECT_EQ(colour->type(), CV_8UC3);
}

}  // namespace
}  // namespace seghub::imaging
