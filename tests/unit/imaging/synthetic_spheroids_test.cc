#include "imaging/synthetic_spheroids.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "test_util.h"

namespace seghub::imaging {
namespace {

SyntheticSpheroid Generate(uint64_t seed, SpheroidStyle style, int size = 256, bool rgb = true) {
  SyntheticSpheroidOptions options;
  options.width = size;
  options.height = size;
  options.style = style;
  options.rgb = rgb;
  auto result = GenerateSyntheticSpheroid(seed, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? *result : SyntheticSpheroid{};
}

bool Same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() &&
         cv::norm(a.reshape(1), b.reshape(1), cv::NORM_INF) == 0;
}

cv::Mat Grey(const cv::Mat& image) {
  if (image.channels() == 1) return image;
  cv::Mat grey;
  cv::cvtColor(image, grey, cv::COLOR_RGB2GRAY);
  return grey;
}

// Pixels well inside the mask, and a band just outside it (5..20 px away).
void InnerAndRing(const cv::Mat& mask, cv::Mat* inner, cv::Mat* ring) {
  const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, {7, 7});
  cv::erode(mask, *inner, kernel);
  cv::Mat near, far;
  cv::dilate(mask, near, kernel);
  cv::dilate(mask, far, cv::getStructuringElement(cv::MORPH_ELLIPSE, {41, 41}));
  *ring = far & ~near;
}

TEST(SyntheticSpheroidsTest, SameSeedSameImage) {
  for (SpheroidStyle style : kAllSpheroidStyles) {
    SCOPED_TRACE(std::string(SpheroidStyleName(style)));
    const SyntheticSpheroid a = Generate(42, style), b = Generate(42, style);
    const SyntheticSpheroid c = Generate(43, style);
    EXPECT_TRUE(Same(a.image, b.image));
    EXPECT_TRUE(Same(a.labels, b.labels));
    EXPECT_FALSE(Same(a.image, c.image));
  }
}

TEST(SyntheticSpheroidsTest, EveryStyleGivesValidImagesAndMasks) {
  for (SpheroidStyle style : kAllSpheroidStyles) {
    for (uint64_t seed = 0; seed < 6; ++seed) {
      SCOPED_TRACE(std::string(SpheroidStyleName(style)) + " seed " + std::to_string(seed));
      const bool rgb = seed % 2 == 0;
      const SyntheticSpheroid s = Generate(seed, style, seed < 3 ? 256 : 320, rgb);
      ASSERT_FALSE(s.image.empty());
      EXPECT_EQ(s.image.type(), rgb ? CV_8UC3 : CV_8UC1);
      EXPECT_EQ(s.mask.type(), CV_8UC1);
      EXPECT_EQ(s.labels.type(), CV_32SC1);
      EXPECT_EQ(s.mask.size(), s.image.size());
      EXPECT_EQ(s.style, style);
      const double fraction = cv::countNonZero(s.mask) / static_cast<double>(s.mask.total());
      EXPECT_GT(fraction, 0.005);
      EXPECT_LT(fraction, 0.6);
      EXPECT_EQ(cv::countNonZero(s.mask != (s.labels != 0)), 0);
      double max_label = 0;
      cv::minMaxLoc(s.labels, nullptr, &max_label);
      EXPECT_EQ(static_cast<int>(max_label), s.num_spheroids);
      for (int k = 1; k <= s.num_spheroids; ++k) EXPECT_GT(cv::countNonZero(s.labels == k), 0);
      cv::Scalar mean, stddev;
      cv::meanStdDev(s.image, mean, stddev);
      EXPECT_GT(stddev[0], 3.0);  // not a flat image
    }
  }
}

// The mask sits on the dark (bright-field) or bright (dark background) object, and on the
// textured disc (IncuCyte, same mean grey as the well).
TEST(SyntheticSpheroidsTest, MaskMatchesTheObject) {
  for (SpheroidStyle style : kAllSpheroidStyles) {
    for (uint64_t seed = 10; seed < 14; ++seed) {
      SCOPED_TRACE(std::string(SpheroidStyleName(style)) + " seed " + std::to_string(seed));
      const SyntheticSpheroid s = Generate(seed, style, 384);
      const cv::Mat grey = Grey(s.image);
      cv::Mat inner, ring;
      InnerAndRing(s.mask, &inner, &ring);
      ASSERT_GT(cv::countNonZero(inner), 0);
      const double in = cv::mean(grey, inner)[0], out = cv::mean(grey, ring)[0];
      if (style == SpheroidStyle::kBrightField || style == SpheroidStyle::kDisintegrating) {
        EXPECT_LT(in, 0.6 * out) << in << " vs " << out;
      } else if (style == SpheroidStyle::kDarkBackground) {
        EXPECT_GT(in, 1.8 * out) << in << " vs " << out;
      } else {
        cv::Mat lap, abs_lap;
        cv::Laplacian(grey, lap, CV_32F, 3);
        abs_lap = cv::abs(lap);
        const double tex_in = cv::mean(abs_lap, inner)[0], tex_out = cv::mean(abs_lap, ring)[0];
        EXPECT_GT(tex_in, 1.5 * tex_out) << tex_in << " vs " << tex_out;
        EXPECT_NEAR(in, out, 20.0);  // flat disc: about the well's grey
      }
    }
  }
}

TEST(SyntheticSpheroidsTest, OptionsAndStyleNames) {
  SyntheticSpheroidOptions options;
  options.width = 32;
  EXPECT_FALSE(GenerateSyntheticSpheroid(1, options).ok());
  options = {};
  options.max_radius_fraction = 0.7;
  EXPECT_FALSE(GenerateSyntheticSpheroid(1, options).ok());
  options = {};
  options.min_radius_fraction = 0.3;
  options.max_radius_fraction = 0.2;
  EXPECT_FALSE(GenerateSyntheticSpheroid(1, options).ok());
  for (SpheroidStyle style : kAllSpheroidStyles) {
    auto parsed = ParseSpheroidStyle(SpheroidStyleName(style));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, style);
  }
  EXPECT_FALSE(ParseSpheroidStyle("phase_contrast").ok());

  options = {};
  options.style = SpheroidStyle::kDisintegrating;
  options.corona_in_mask = true;
  auto with = GenerateSyntheticSpheroid(5, options);
  options.corona_in_mask = false;
  auto without = GenerateSyntheticSpheroid(5, options);
  ASSERT_TRUE(with.ok() && without.ok());
  EXPECT_GT(cv::countNonZero(with->mask), 2 * cv::countNonZero(without->mask));
  EXPECT_EQ(with->num_spheroids, without->num_spheroids + 1);

  options = {};
  options.touching_pair_probability = 1.0;
  auto pair = GenerateSyntheticSpheroid(3, options);
  ASSERT_TRUE(pair.ok());
  EXPECT_EQ(pair->num_spheroids, 2);
  cv::Mat components;
  EXPECT_EQ(cv::connectedComponents(pair->mask, components), 2);  // background + one blob: touching
}

cv::Mat Tile(const cv::Mat& image, int size, const std::string& caption) {
  cv::Mat grey = Grey(image);
  const int side = std::min(grey.cols, grey.rows);
  cv::Mat square = grey(cv::Rect((grey.cols - side) / 2, (grey.rows - side) / 2, side, side));
  cv::Mat tile;
  cv::resize(square, tile, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  cv::rectangle(tile, cv::Rect(0, size - 16, size, 16), 0, cv::FILLED);
  cv::putText(tile, caption, {4, size - 4}, cv::FONT_HERSHEY_SIMPLEX, 0.38, 255, 1, cv::LINE_AA);
  return tile;
}

// Three real photos above six synthetic images, for docs/images/synthetic_spheroids.png. Set
// SEGHUB_MONTAGE_OUT to a path to write it.
TEST(SyntheticSpheroidsTest, DocsMontage) {
  constexpr int kTile = 200;
  const std::string dir = testing::SharedDir() + "/data/spheroids/";
  const std::vector<std::pair<std::string, std::string>> real = {
      {"026f6ae6-fa28-487c-8263-f49babd99dd3.png", "real: bright-field"},
      {"20220725_Spheroids_BLSMC_DMEM_Rep1-Image_Export-03.tif", "real: dark background"},
      {"VID1335_A7_1_00d05h00m.jpg", "real: IncuCyte"}};
  std::vector<cv::Mat> tiles;
  for (const auto& [file, caption] : real) {
    const cv::Mat image = cv::imread(dir + file, cv::IMREAD_GRAYSCALE);
    if (image.empty()) GTEST_SKIP() << "no shared spheroid photos";
    tiles.push_back(Tile(image, kTile, caption));
  }
  const std::vector<std::pair<SpheroidStyle, uint64_t>> synthetic = {
      {SpheroidStyle::kBrightField, 3},    {SpheroidStyle::kBrightField, 8},
      {SpheroidStyle::kDisintegrating, 2}, {SpheroidStyle::kDarkBackground, 4},
      {SpheroidStyle::kIncuCyte, 1},       {SpheroidStyle::kIncuCyte, 6}};
  for (const auto& [style, seed] : synthetic) {
    const SyntheticSpheroid s = Generate(seed, style, 768);
    tiles.push_back(Tile(s.image, kTile, "synthetic: " + std::string(SpheroidStyleName(style))));
  }
  std::vector<cv::Mat> rows;
  for (size_t r = 0; r < 3; ++r) {
    cv::Mat row;
    cv::hconcat(std::vector<cv::Mat>(tiles.begin() + 3 * r, tiles.begin() + 3 * r + 3), row);
    rows.push_back(row);
  }
  cv::Mat montage;
  cv::vconcat(rows, montage);
  std::vector<uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", montage, png, {cv::IMWRITE_PNG_COMPRESSION, 9}));
  EXPECT_LT(png.size(), 300u * 1024u);
  if (const char* out = std::getenv("SEGHUB_MONTAGE_OUT")) {
    std::ofstream(out, std::ios::binary)
        .write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  }
}

}  // namespace
}  // namespace seghub::imaging
