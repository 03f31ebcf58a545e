// The PNG fast path against libpng (through cv::imdecode) as the reference decoder: PNGs written
// here with every row filter and by OpenCV's encoder, 8/16-bit grey, RGB and RGBA, and the real
// PNGs in ../shared/data; files it must leave to OpenCV (bad CRC, truncated, tRNS) give nullopt.
#include "imaging/png_fast.h"

#include <gtest/gtest.h>
#include <libdeflate.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "imaging/decode.h"

namespace seghub::imaging {
namespace {

void PutBe32(std::vector<uint8_t>* out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out->push_back(static_cast<uint8_t>(v >> s));
}

void PutChunk(std::vector<uint8_t>* out, const char* type, const std::vector<uint8_t>& data) {
  PutBe32(out, static_cast<uint32_t>(data.size()));
  std::vector<uint8_t> body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  out->insert(out->end(), body.begin(), body.end());
  PutBe32(out, libdeflate_crc32(0, body.data(), body.size()));
}

// A PNG of `image` (samples in PNG order: RGB(A), big-endian 16-bit) whose row y uses filter
// y % 5, so every filter type appears. Filtering runs forward here, independently of the reader.
std::vector<uint8_t> WritePng(const cv::Mat& image, int color_type,
                              const std::vector<uint8_t>& extra_chunk = {}) {
  const size_t bytes = image.elemSize1(), bpp = image.elemSize();
  const size_t stride = image.cols * bpp;
  std::vector<uint8_t> raw, prev(stride, 0);
  for (int y = 0; y < image.rows; ++y) {
    std::vector<uint8_t> row(stride);
    for (size_t i = 0; i < stride; ++i) {  // host-order samples -> PNG's big-endian bytes
      const size_t sample = i / bytes, byte = i % bytes;
      const uint8_t* p = image.ptr<uint8_t>(y) + sample * bytes;
      row[i] = bytes == 1 ? p[0] : p[1 - byte];
    }
    const int filter = y % 5;
    raw.push_back(static_cast<uint8_t>(filter));
    for (size_t i = 0; i < stride; ++i) {
      const int a = i >= bpp ? row[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      const int p = a + b - c;
      const int pred =
          filter == 1   ? a
          : filter == 2 ? b
          : filter == 3 ? (a + b) / 2
          : filter == 4 ? (std::abs(p - a) <= std::abs(p - b) && std::abs(p - a) <= std::abs(p - c)
                               ? a
                               : (std::abs(p - b) <= std::abs(p - c) ? b : c))
                        : 0;
      raw.push_back(static_cast<uint8_t>(row[i] - pred));
    }
    prev = row;
  }
  libdeflate_compressor* c = libdeflate_alloc_compressor(6);
  std::vector<uint8_t> z(libdeflate_zlib_compress_bound(c, raw.size()));
  z.resize(libdeflate_zlib_compress(c, raw.data(), raw.size(), z.data(), z.size()));
  libdeflate_free_compressor(c);
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  PutBe32(&ihdr, image.cols);
  PutBe32(&ihdr, image.rows);
  ihdr.insert(ihdr.end(),
              {static_cast<uint8_t>(bytes * 8), static_cast<uint8_t>(color_type), 0, 0, 0});
  PutChunk(&png, "IHDR", ihdr);
  if (!extra_chunk.empty()) PutChunk(&png, "tRNS", extra_chunk);
  // Two IDAT chunks: the reader must join them.
  const size_t half = z.size() / 2;
  PutChunk(&png, "IDAT", {z.begin(), z.begin() + half});
  PutChunk(&png, "IDAT", {z.begin() + half, z.end()});
  PutChunk(&png, "IEND", {});
  return png;
}

// What the OpenCV path of DecodeImage returns: RGB or grey, alpha dropped.
cv::Mat Reference(const std::vector<uint8_t>& png) {
  cv::Mat m = cv::imdecode(png, cv::IMREAD_UNCHANGED);
  if (m.channels() == 3) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  if (m.channels() == 4) cv::cvtColor(m, m, cv::COLOR_BGRA2RGB);
  return m;
}

void ExpectSame(const cv::Mat& a, const cv::Mat& b) {
  ASSERT_EQ(a.type(), b.type());
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
}

cv::Mat Random(int rows, int cols, int type, uint64_t seed) {
  cv::Mat m(rows, cols, type);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0, CV_MAT_DEPTH(type) == CV_16U ? 65536 : 256);
  cv::Mat smooth;
  cv::GaussianBlur(m, smooth, {0, 0}, 2.0);  // smooth halves make filters predict something
  if (cols >= 2) smooth(cv::Rect(0, 0, cols / 2, rows)).copyTo(m(cv::Rect(0, 0, cols / 2, rows)));
  return m;
}

TEST(PngFastTest, EveryFilterDepthAndColourTypeMatchesLibpng) {
  const struct {
    int type, color_type;
  } cases[] = {{CV_8UC1, 0},  {CV_8UC3, 2},  {CV_8UC4, 6},
               {CV_16UC1, 0}, {CV_16UC3, 2}, {CV_16UC4, 6}};
  for (const auto& c : cases) {
    for (cv::Size size : {cv::Size(1, 1), cv::Size(37, 23), cv::Size(256, 64)}) {
      SCOPED_TRACE("type " + std::to_string(c.type) + " " + std::to_string(size.width) + "x" +
                   std::to_string(size.height));
      const std::vector<uint8_t> png =
          WritePng(Random(size.height, size.width, c.type, 7), c.color_type);
      const auto fast = DecodePngFast(png);
      ASSERT_TRUE(fast.has_value());
      EXPECT_EQ(fast->had_alpha, c.color_type == 6);
      ExpectSame(fast->pixels, Reference(png));
    }
  }
}

TEST(PngFastTest, OpenCvEncodedFilesMatch) {
  for (int type : {CV_8UC1, CV_8UC3, CV_8UC4, CV_16UC1, CV_16UC3}) {
    for (int strategy : {cv::IMWRITE_PNG_STRATEGY_DEFAULT, cv::IMWRITE_PNG_STRATEGY_FILTERED,
                         cv::IMWRITE_PNG_STRATEGY_RLE, cv::IMWRITE_PNG_STRATEGY_FIXED}) {
      std::vector<uint8_t> png;
      ASSERT_TRUE(
          cv::imencode(".png", Random(61, 45, type, 3), png,
                       {cv::IMWRITE_PNG_STRATEGY, strategy, cv::IMWRITE_PNG_COMPRESSION, 9}));
      const auto fast = DecodePngFast(png);
      ASSERT_TRUE(fast.has_value()) << "type " << type << " strategy " << strategy;
      ExpectSame(fast->pixels, Reference(png));
    }
  }
}

TEST(PngFastTest, RealPngsMatch) {
  int checked = 0;
  for (const char* dir :
       {"data/nuclei/u2os/test/images", "data/spheroids", "data/nuclei/dsb2018/images"}) {
    const std::filesystem::path root = std::filesystem::path(SEGHUB_SHARED_DIR) / dir;
    if (!std::filesystem::is_directory(root)) continue;
    int in_dir = 0;
    for (const auto& e : std::filesystem::directory_iterator(root)) {
      if (e.path().extension() != ".png" || in_dir >= 4) continue;
      std::ifstream in(e.path(), std::ios::binary);
      const std::vector<uint8_t> png((std::istreambuf_iterator<char>(in)), {});
      const auto fast = DecodePngFast(png);
      if (!fast) continue;  // e.g. a palette or grey + alpha file: OpenCV's job
      SCOPED_TRACE(e.path().string());
      ExpectSame(fast->pixels, Reference(png));
      ++in_dir;
      ++checked;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no PNG under ../shared/data took the fast path";
}

TEST(PngFastTest, LeavesUnusualOrBrokenFilesToOpenCv) {
  const cv::Mat image = Random(20, 30, CV_8UC3, 5);
  const std::vector<uint8_t> good = WritePng(image, 2);
  ASSERT_TRUE(DecodePngFast(good).has_value());
  std::vector<uint8_t> bad_crc = good;
  bad_crc[8 + 8 + 13] ^= 1;  // IHDR's CRC
  EXPECT_FALSE(DecodePngFast(bad_crc).has_value());
  const std::vector<uint8_t> truncated(good.begin(), good.end() - 20);
  EXPECT_FALSE(DecodePngFast(truncated).has_value());
  EXPECT_FALSE(DecodePngFast(WritePng(image, 2, {0, 1, 0, 2, 0, 3})).has_value());  // tRNS
  // A header promising 10,000 x 10,000 pixels over 100 bytes of data: left to OpenCV.
  std::vector<uint8_t> bomb = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  PutBe32(&ihdr, 10000);
  PutBe32(&ihdr, 10000);
  ihdr.insert(ihdr.end(), {8, 0, 0, 0, 0});
  PutChunk(&bomb, "IHDR", ihdr);
  PutChunk(&bomb, "IDAT", std::vector<uint8_t>(100, 0));
  PutChunk(&bomb, "IEND", {});
  EXPECT_FALSE(DecodePngFast(bomb).has_value());
  const std::vector<uint8_t> jpeg_magic = {0xff, 0xd8, 0xff, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(DecodePngFast(jpeg_magic).has_value());
  // Through DecodeImage, the broken file still gets OpenCV's clear error, the good one decodes.
  EXPECT_FALSE(DecodeImage(bad_crc).ok());
  auto decoded = DecodeImage(good);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSame(decoded->pixels, Reference(good));
}

}  // namespace
}  // namespace seghub::imaging
