#include "imaging/normalize.h"

#include <gtest/gtest.h>

namespace seghub::imaging {
namespace {

TEST(PercentileTest, MatchesNumpyLinearInterpolation) {
  // Samples 0..99: np.percentile(range(100), 99.8) = 98.802, np.percentile(..., 1) = 0.99.
  cv::Mat m(10, 10, CV_16UC1);
  for (int i = 0; i < 100; ++i) m.at<uint16_t>(i / 10, i % 10) = static_cast<uint16_t>(i * 500);
  EXPECT_NEAR(*Percentile(m, 99.8), 98.802 * 500, 1e-6);
  EXPECT_NEAR(*Percentile(m, 1.0), 0.99 * 500, 1e-6);
  EXPECT_DOUBLE_EQ(*Percentile(m, 0.0), 0.0);
  EXPECT_DOUBLE_EQ(*Percentile(m, 100.0), 99 * 500);
  cv::Mat f;
  m.convertTo(f, CV_32F);
  EXPECT_NEAR(*Percentile(f, 99.8), 98.802 * 500, 1e-3);
  EXPECT_NEAR(*Percentile(f, 37.5), 37.125 * 500, 1e-3);
  EXPECT_FALSE(Percentile(m, 101.0).ok());
}

TEST(PercentileTest, SeveralAtOnceEqualOneAtATime) {
  cv::Mat u16(37, 53, CV_16UC1), f32;
  cv::randu(u16, 0, 60000);
  u16.convertTo(f32, CV_32F, 1.0 / 60000);
  cv::Mat u8 = cv::Mat(u16 / 256);
  u8.convertTo(u8, CV_8U);
  const std::vector<double> ps = {99.8, 1.0, 50.0, 0.0, 100.0};
  for (const cv::Mat* m : {&u8, &u16, &f32}) {
    auto all = Percentiles(*m, ps);
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), ps.size());
    for (size_t i = 0; i < ps.size(); ++i) {
      auto one = Percentile(*m, ps[i]);
      ASSERT_TRUE(one.ok());
      EXPECT_DOUBLE_EQ((*all)[i], *one) << "depth " << m->depth() << " p " << ps[i];
    }
  }
  EXPECT_FALSE(Percentiles(u8, {50.0, 101.0}).ok());
}

TEST(NormalizeTest, SixteenBitMapsPercentilesToUnitRange) {
  cv::Mat m(1, 1000, CV_16UC1);
  for (int i = 0; i < 1000; ++i) m.at<uint16_t>(0, i) = static_cast<uint16_t>(10000 + 40 * i);
  m.at<uint16_t>(0, 999) = 65535;  // one hot pixel must not squash the rest
  const auto r = NormalizeToUnit(m);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->type(), CV_32FC1);
  double lo = 0, hi = 0;
  cv::minMaxLoc(*r, &lo, &hi);
  EXPECT_EQ(lo, 0.0);
  EXPECT_EQ(hi, 1.0);
  EXPECT_NEAR(r->at<float>(0, 500), 0.5, 0.01);  // not crushed towards 0 by the outlier
  // Neighbouring 16-bit values stay distinct: nothing was truncated to 8 bits.
  EXPECT_NE(r->at<float>(0, 500), r->at<float>(0, 501));
}

TEST(NormalizeTest, EightBitIsDivisionBy255) {
  cv::Mat m(1, 256, CV_8UC1);
  for (int i = 0; i < 256; ++i) m.at<uint8_t>(0, i) = static_cast<uint8_t>(i);
  const auto r = NormalizeToUnit(m);
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < 256; ++i) EXPECT_EQ(r->at<float>(0, i), static_cast<float>(i) / 255.0f);
}

TEST(NormalizeTest, FlatImageFallsBackToFullRange) {
  const auto r = NormalizeToUnit(cv::Mat(4, 4, CV_16UC1, cv::Scalar(65535)));
  ASSERT_TRUE(r.ok());
  EXPECT_FLOAT_EQ(r->at<float>(2, 2), 1.0f);
}

// Dark objects on a bright background (bright field, H&E) come out bright when auto-inverted;
// fluorescence (dark background) is left as it is.
TEST(UnitMappingTest, AutoInvertFlipsOnlyBrightBackgrounds) {
  cv::Mat bright_field(20, 20, CV_8UC1, cv::Scalar(200));
  bright_field(cv::Rect(5, 5, 4, 4)).setTo(40);
  NormalizeOptions percentile;
  percentile.mode = NormalizeMode::kPercentile;
  auto m = ComputeUnitMapping(bright_field, percentile, /*auto_invert=*/true);
  ASSERT_TRUE(m.ok());
  cv::Mat unit = ApplyUnitMapping(bright_field, *m);
  EXPECT_NEAR(unit.at<float>(6, 6), 1.0f, 1e-6);  // the dark object is now the brightest
  EXPECT_NEAR(unit.at<float>(0, 0), 0.0f, 1e-6);
  cv::Mat fluorescence = 255 - bright_field;
  m = ComputeUnitMapping(fluorescence, percentile, true);
  ASSERT_TRUE(m.ok());
  unit = ApplyUnitMapping(fluorescence, *m);
  EXPECT_NEAR(unit.at<float>(6, 6), 1.0f, 1e-6);
  EXPECT_NEAR(unit.at<float>(0, 0), 0.0f, 1e-6);
  // Without inversion, the bright-field object stays dark.
  m = ComputeUnitMapping(bright_field, percentile, false);
  ASSERT_TRUE(m.ok());
  EXPECT_NEAR(ApplyUnitMapping(bright_field, *m).at<float>(6, 6), 0.0f, 1e-6);
}

// Percentile mode stretches a dim 8-bit exposure to the full range; the default keeps v/255.
TEST(UnitMappingTest, PercentileModeStretchesDimEightBitImages) {
  cv::Mat dim(1, 100, CV_8UC1);
  for (int i = 0; i < 100; ++i) dim.at<uint8_t>(0, i) = static_cast<uint8_t>(10 + i / 4);
  NormalizeOptions percentile;
  percentile.mode = NormalizeMode::kPercentile;
  auto m = ComputeUnitMapping(dim, percentile, false);
  ASSERT_TRUE(m.ok());
  double lo = 0, hi = 0;
  cv::minMaxLoc(ApplyUnitMapping(dim, *m), &lo, &hi);
  EXPECT_NEAR(lo, 0.0, 1e-6);
  EXPECT_NEAR(hi, 1.0, 1e-6);
  m = ComputeUnitMapping(dim, {}, false);
  ASSERT_TRUE(m.ok());
  EXPECT_NEAR(ApplyUnitMapping(dim, *m).at<float>(0, 99), 34.0f / 255.0f, 1e-6);
}

TEST(ToChannelsTest, ReplicatesAndReduces) {
  const cv::Mat grey(2, 2, CV_16UC1, cv::Scalar(4000));
  const auto rgb = ToChannels(grey, 3);
  ASSERT_TRUE(rgb.ok());
  EXPECT_EQ(rgb->at<cv::Vec3w>(1, 1), cv::Vec3w(4000, 4000, 4000));
  const auto back = ToChannels(*rgb, 1);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->at<uint16_t>(0, 0), 4000);
  EXPECT_FALSE(ToChannels(grey, 2).ok());
}

}  // namespace
}  // namespace seghub::imaging
