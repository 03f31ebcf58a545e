#include "imaging/decode.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "test_util.h"

namespace seghub::imaging {
namespace {

using testing::Encode;
using testing::ReadBytes;
using testing::SharedDir;

// A test pattern whose channels differ (so channel-order mistakes show); 16-bit patterns use
// values above 255 (so truncation to 8 bits shows).
cv::Mat Pattern(int rows, int cols, int type) {
  cv::Mat b(rows, cols, CV_64F), g(rows, cols, CV_64F), r(rows, cols, CV_64F, cv::Scalar(200));
  const bool wide = CV_MAT_DEPTH(type) == CV_16U;
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      b.at<double>(y, x) = wide ? x * 600 + y : (x * 7) % 256;
      g.at<double>(y, x) = wide ? y * 300 + 7 : (y * 5) % 256;
    }
  }
  cv::Mat merged, out;
  if (CV_MAT_CN(type) == 1) {
    merged = b;
  } else {
    cv::merge(std::vector<cv::Mat>{b, g, r}, merged);
  }
  merged.convertTo(out, type);
  return out;
}

// PNG signature + IHDR chunk claiming width x height, 8-bit RGB; no pixel data at all.
std::vector<uint8_t> PngHeaderOnly(uint32_t width, uint32_t height) {
  std::vector<uint8_t> b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n',
                            0,    0,   0,   13,  'I',  'H',  'D',  'R'};
  for (uint32_t v : {width, height}) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
  }
  for (uint8_t v : {8, 2, 0, 0, 0, 0, 0, 0, 0}) b.push_back(v);  // depth, colour, ..., CRC
  return b;
}

TEST(DecodeTest, RejectsEmptyInput) {
  const auto r = DecodeImage({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("empty"), std::string::npos);
}

TEST(DecodeTest, RejectsUnknownBytes) {
  const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'};
  const auto r = DecodeImage(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("not a supported image (PNG, JPEG, BMP, TIFF, WebP)"),
            std::string::npos);
}

TEST(DecodeTest, RejectsCorruptPngBody) {
  std::vector<uint8_t> png = Encode(".png", Pattern(40, 50, CV_8UC3));
  png.resize(png.size() / 2);  // header intact, pixel data cut
  std::fill(png.begin() + 40, png.end(), 0xAB);
  const auto r = DecodeImage(png);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(DecodeTest, RejectsTruncatedHeaders) {
  for (const char* ext : {".png", ".jpg", ".bmp", ".tiff", ".webp"}) {
    std::vector<uint8_t> bytes = Encode(ext, Pattern(30, 30, CV_8UC3));
    bytes.resize(6);
    const auto r = DecodeImage(bytes);
    ASSERT_FALSE(r.ok()) << ext;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << ext;
  }
}

TEST(DecodeTest, RefusesDecompressionBombFromHeaderAlone) {
  const std::vector<uint8_t> bomb = PngHeaderOnly(30000, 30000);
  const auto header = ProbeHeader(bomb);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->first().width, 30000);
  EXPECT_EQ(header->first().height, 30000);
  const auto r = DecodeImage(bomb);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPayloadTooLarge);
  EXPECT_NE(r.status().message().find("30000x30000"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("100000000"), std::string::npos) << r.status().message();
}

TEST(DecodeTest, RefusesOverflowingHeaderDimensions) {
  const auto r = DecodeImage(PngHeaderOnly(0xFFFFFFFFu, 0xFFFFFFFFu));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPayloadTooLarge);
}

TEST(DecodeTest, RefusesTooManyBytes) {
  const std::vector<uint8_t> png = Encode(".png", Pattern(20, 20, CV_8UC3));
  DecodeLimits limits;
  limits.max_bytes = png.size() - 1;
  const auto r = DecodeImage(png, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPayloadTooLarge);
  EXPECT_NE(r.status().message().find(std::to_string(limits.max_bytes)), std::string::npos);
}

TEST(DecodeTest, HeaderDimensionsOfEveryFormat) {
  const cv::Mat bgr = Pattern(37, 53, CV_8UC3);
  for (const char* ext : {".png", ".jpg", ".bmp", ".tiff", ".webp"}) {
    const auto header = ProbeHeader(Encode(ext, bgr));
    ASSERT_TRUE(header.ok()) << ext << ": " << header.status().ToString();
    EXPECT_EQ(header->first().width, 53) << ext;
    EXPECT_EQ(header->first().height, 37) << ext;
  }
  // Lossless WebP carries its size in the VP8L bit field.
  const auto lossless = ProbeHeader(Encode(".webp", bgr, {cv::IMWRITE_WEBP_QUALITY, 101}));
  ASSERT_TRUE(lossless.ok());
  EXPECT_EQ(lossless->first().width, 53);
  EXPECT_EQ(lossless->first().height, 37);
}

TEST(DecodeTest, LosslessFormatsRoundTripInRgbOrder) {
  const cv::Mat bgr = Pattern(37, 53, CV_8UC3);
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  for (const char* ext : {".png", ".bmp", ".tiff"}) {
    const auto r = DecodeImage(Encode(ext, bgr));
    ASSERT_TRUE(r.ok()) << ext << ": " << r.status().ToString();
    ASSERT_EQ(r->pixels.type(), CV_8UC3) << ext;
    EXPECT_EQ(cv::norm(r->pixels, rgb, cv::NORM_INF), 0.0) << ext;
  }
  const auto webp = DecodeImage(Encode(".webp", bgr, {cv::IMWRITE_WEBP_QUALITY, 101}));
  ASSERT_TRUE(webp.ok()) << webp.status().ToString();
  EXPECT_EQ(webp->format, ImageFormat::kWebp);
  EXPECT_EQ(cv::norm(webp->pixels, rgb, cv::NORM_INF), 0.0);
}

TEST(DecodeTest, JpegDecodesApproximately) {
  const cv::Mat bgr(32, 48, CV_8UC3, cv::Scalar(30, 120, 220));
  const auto r = DecodeImage(Encode(".jpg", bgr, {cv::IMWRITE_JPEG_QUALITY, 95}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->format, ImageFormat::kJpeg);
  const cv::Scalar mean = cv::mean(r->pixels);
  EXPECT_NEAR(mean[0], 220, 3);  // R first
  EXPECT_NEAR(mean[2], 30, 3);
}

TEST(DecodeTest, SixteenBitKeepsItsRange) {
  for (const char* ext : {".png", ".tiff"}) {
    const cv::Mat grey = Pattern(20, 100, CV_16UC1);  // values up to 59419
    const auto r = DecodeImage(Encode(ext, grey));
    ASSERT_TRUE(r.ok()) << ext << ": " << r.status().ToString();
    ASSERT_EQ(r->pixels.type(), CV_16UC1) << ext;
    EXPECT_EQ(cv::norm(r->pixels, grey, cv::NORM_INF), 0.0) << ext;

    const cv::Mat colour = Pattern(10, 12, CV_16UC3);
    const auto c = DecodeImage(Encode(ext, colour));
    ASSERT_TRUE(c.ok()) << ext;
    ASSERT_EQ(c->pixels.type(), CV_16UC3) << ext;
    EXPECT_EQ(c->pixels.at<cv::Vec3w>(3, 4)[0], colour.at<cv::Vec3w>(3, 4)[2]) << ext;
  }
}

TEST(DecodeTest, DropsAlpha) {
  cv::Mat bgra(8, 9, CV_8UC4, cv::Scalar(10, 20, 30, 0));  // fully transparent
  const auto r = DecodeImage(Encode(".png", bgra));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->had_alpha);
  ASSERT_EQ(r->pixels.type(), CV_8UC3);
  EXPECT_EQ(r->pixels.at<cv::Vec3b>(0, 0), cv::Vec3b(30, 20, 10));  // no compositing
}

TEST(DecodeTest, MultiPageTiff) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("seghub_multi_" + std::to_string(getpid()) + ".tiff"))
                               .string();
  const std::vector<cv::Mat> pages = {cv::Mat(10, 12, CV_16UC1, cv::Scalar(1000)),
                                      cv::Mat(10, 12, CV_16UC1, cv::Scalar(2000)),
                                      cv::Mat(7, 5, CV_16UC1, cv::Scalar(3000))};
  ASSERT_TRUE(cv::imwritemulti(path, pages));
  const std::vector<uint8_t> bytes = ReadBytes(path);
  std::filesystem::remove(path);

  const auto first = DecodeImage(bytes);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->page_count, 3);
  EXPECT_EQ(first->pixels.at<uint16_t>(0, 0), 1000);

  const auto third = DecodeImage(bytes, {}, 2);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->pixels.size(), cv::Size(5, 7));
  EXPECT_EQ(third->pixels.at<uint16_t>(0, 0), 3000);

  const auto all = DecodeAllPages(bytes);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[1].pixels.at<uint16_t>(9, 11), 2000);

  EXPECT_EQ(DecodeImage(bytes, {}, 3).status().code(), StatusCode::kInvalidArgument);
  DecodeLimits small;
  small.max_pixels = 10 * 12 * 2;  // each page fits, all three do not
  EXPECT_TRUE(DecodeImage(bytes, small).ok());
  EXPECT_EQ(DecodeAllPages(bytes, small).status().code(), StatusCode::kPayloadTooLarge);
}

TEST(DecodeTest, RealDsbImageAndSixteenBitLabels) {
  const std::string id = "0114f484a16c152baa2d82fdd43740880a762c93f436c8988ac461c5c9dbe7d5";
  const auto image_bytes = ReadBytes(SharedDir() + "/data/nuclei/dsb2018/images/" + id + ".png");
  const auto label_bytes = ReadBytes(SharedDir() + "/data/nuclei/dsb2018/labels/" + id + ".png");
  if (image_bytes.empty() || label_bytes.empty()) GTEST_SKIP() << "shared data not present";

  const auto image = DecodeImage(image_bytes);
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->pixels.type(), CV_8UC3);  // RGBA on disk
  EXPECT_TRUE(image->had_alpha);
  EXPECT_EQ(image->pixels.size(), cv::Size(256, 256));

  const auto labels = DecodeImage(label_bytes);
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  ASSERT_EQ(labels->pixels.type(), CV_16UC1);
  double max_label = 0;
  cv::minMaxLoc(labels->pixels, nullptr, &max_label);
  EXPECT_GT(max_label, 1.0);  // instance ids, not a binary mask
}

TEST(DecodeTest, RealSpheroidTiffAndJpeg) {
  const auto tiff = ReadBytes(
      SharedDir() + "/data/spheroids/20220725_Spheroids_BLSMC_DMEM_Rep1-Image_Export-03.tif");
  const auto jpeg = ReadBytes(SharedDir() + "/data/spheroids/VID1335_A7_1_00d05h00m.jpg");
  if (tiff.empty() || jpeg.empty()) GTEST_SKIP() << "shared data not present";
  const auto t = DecodeImage(tiff);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->format, ImageFormat::kTiff);
  EXPECT_EQ(t->pixels.size(), cv::Size(1920, 1080));
  EXPECT_EQ(t->pixels.channels(), 3);

  const auto header = ProbeHeader(jpeg);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->first().width, 2496);
  EXPECT_EQ(header->first().height, 2496);
  DecodeLimits limits;
  limits.max_pixels = 2496 * 2496 - 1;
  EXPECT_EQ(DecodeImage(jpeg, limits).status().code(), StatusCode::kPayloadTooLarge);
}

TEST(DecodeTest, TruncatedAndMutatedBytesNeverCrash) {
  // Every prefix of every format's header region, and random byte flips of whole files: the
  // decoder must answer with a Status (run under ASan to make this bite).
  cv::RNG rng(1234);
  for (const char* ext : {".png", ".jpg", ".bmp", ".tiff", ".webp"}) {
    const std::vector<uint8_t> bytes = Encode(ext, Pattern(23, 31, CV_8UC3));
    for (size_t n = 0; n <= std::min<size_t>(bytes.size(), 160); ++n) {
      const auto r = DecodeImage(std::span<const uint8_t>(bytes.data(), n));
      if (r.ok()) {
        EXPECT_EQ(r->pixels.cols, 31) << ext << " prefix " << n;
      }
    }
    for (int trial = 0; trial < 40; ++trial) {
      std::vector<uint8_t> mutated = bytes;
      for (int k = 0; k < 4; ++k) mutated[rng.uniform(0, static_cast<int>(bytes.size()))] ^= 0xFF;
      const auto r = DecodeImage(mutated);
      if (r.ok()) {
        EXPECT_FALSE(r->pixels.empty());
      }
    }
  }
}

TEST(DecodeTest, EveryRealImageInTheSharedDataDecodes) {
  namespace fs = std::filesystem;
  const fs::path root = SharedDir() + "/data";
  if (!fs::exists(root / "nuclei/dsb2018")) GTEST_SKIP() << "shared data not present";
  int decoded = 0;
  for (const char* dir : {"nuclei/dsb2018/images", "nuclei/dsb2018/labels", "spheroids"}) {
    for (const auto& entry : fs::directory_iterator(root / dir)) {
      if (entry.path().extension() == ".md") continue;
      const auto r = DecodeImage(ReadBytes(entry.path().string()));
      ASSERT_TRUE(r.ok()) << entry.path() << ": " << r.status().ToString();
      EXPECT_TRUE(r->pixels.channels() == 1 || r->pixels.channels() == 3) << entry.path();
      ++decoded;
    }
  }
  EXPECT_GE(decoded, 70);
}

}  // namespace
}  // namespace seghub::imaging
