#include "imaging/preprocess.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <opencv2/imgproc.hpp>

#include "imaging/pil_resize.h"
#include "test_util.h"

namespace seghub::imaging {
namespace {

using testing::ReadBytes;
using testing::SharedDir;

std::string VectorPath(const std::string& name) {
  return SharedDir() + "/reference/hub-models/" + name;
}

// A raw HWC RGB uint8 vector as CV_8UC3 (RGB order, as DecodeImage returns).
cv::Mat LoadU8(const std::string& name, int rows, int cols) {
  const std::vector<uint8_t> bytes = ReadBytes(VectorPath(name));
  if (bytes.size() != static_cast<size_t>(rows) * cols * 3) return {};
  return cv::Mat(rows, cols, CV_8UC3, const_cast<uint8_t*>(bytes.data())).clone();
}

std::vector<float> LoadF32(const std::string& name) {
  const std::vector<uint8_t> bytes = ReadBytes(VectorPath(name));
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

struct VectorCase {
  int rows, cols;
  std::string resized, tensor;
};

class PreprocessVectorsTest : public ::testing::TestWithParam<VectorCase> {};

TEST_P(PreprocessVectorsTest, ResizeBitMatchesPillow) {
  const VectorCase& c = GetParam();
  const cv::Mat src = LoadU8("preprocess_src_45x61x3.u8", 45, 61);
  const cv::Mat expected = LoadU8(c.resized, c.rows, c.cols);
  if (src.empty() || expected.empty()) GTEST_SKIP() << "test vectors not present";
  const auto resized = PilResizeBilinear(src, {c.cols, c.rows});
  ASSERT_TRUE(resized.ok()) << resized.status().ToString();
  EXPECT_EQ(cv::norm(*resized, expected, cv::NORM_INF), 0.0);
  // The vectors document that OpenCV's bilinear is no substitute; make sure they can tell.
  cv::Mat opencv;
  cv::resize(src, opencv, {c.cols, c.rows}, 0, 0, cv::INTER_LINEAR);
  EXPECT_GT(cv::norm(opencv, expected, cv::NORM_INF), 0.0);
}

TEST_P(PreprocessVectorsTest, TensorIsBitExact) {
  const VectorCase& c = GetParam();
  const cv::Mat src = LoadU8("preprocess_src_45x61x3.u8", 45, 61);
  const std::vector<float> expected = LoadF32(c.tensor);
  if (src.empty() || expected.size() != static_cast<size_t>(3 * c.rows * c.cols)) {
    GTEST_SKIP() << "test vectors not present";
  }
  PreprocessOptions options;
  options.size = {c.cols, c.rows};
  const auto tensor = Preprocess(src, options);
  ASSERT_TRUE(tensor.ok()) << tensor.status().ToString();
  EXPECT_EQ(tensor->channels, 3);
  EXPECT_EQ(tensor->height, c.rows);
  EXPECT_EQ(tensor->width, c.cols);
  ASSERT_EQ(tensor->data.size(), expected.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < expected.size(); ++i) mismatches += tensor->data[i] != expected[i];
  EXPECT_EQ(mismatches, 0u);
}

INSTANTIATE_TEST_SUITE_P(HubVectors, PreprocessVectorsTest,
                         ::testing::Values(VectorCase{20, 28, "preprocess_resized_20x28x3.u8",
                                                      "preprocess_tensor_1x3x20x28.f32"},
                                           VectorCase{96, 128, "preprocess_resized_96x128x3.u8",
                                                      "preprocess_tensor_1x3x96x128.f32"}));

TEST(PilResizeTest, ConstantImageStaysConstant) {
  const cv::Mat flat(33, 47, CV_8UC3, cv::Scalar(17, 99, 250));
  for (const cv::Size size : {cv::Size(10, 9), cv::Size(100, 80), cv::Size(47, 5)}) {
    const auto r = PilResizeBilinear(flat, size);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->size(), size);
    EXPECT_EQ(cv::norm(*r, cv::Mat(size, CV_8UC3, cv::Scalar(17, 99, 250)), cv::NORM_INF), 0);
  }
}

TEST(PilResizeTest, FloatPathTracksEightBitPath) {
  cv::Mat src(45, 61, CV_8UC1);
  cv::randu(src, 0, 256);
  cv::Mat unit;
  src.convertTo(unit, CV_32F, 1.0 / 255.0);
  const auto u8 = PilResizeBilinear(src, {28, 20});
  const auto f32 = PilResizeBilinear(unit, {28, 20});
  ASSERT_TRUE(u8.ok() && f32.ok());
  cv::Mat u8_as_unit;
  u8->convertTo(u8_as_unit, CV_32F, 1.0 / 255.0);
  // Same weights; only the 8-bit path's two roundings separate them.
  EXPECT_LE(cv::norm(u8_as_unit, *f32, cv::NORM_INF), 1.01 / 255.0);
}

TEST(PilResizeTest, RejectsBadInput) {
  EXPECT_FALSE(PilResizeBilinear(cv::Mat(), {4, 4}).ok());
  EXPECT_FALSE(PilResizeBilinear(cv::Mat(4, 4, CV_8UC1), {0, 4}).ok());
  EXPECT_FALSE(PilResizeBilinear(cv::Mat(4, 4, CV_16UC1), {2, 2}).ok());
}

TEST(PreprocessTest, GreyBecomesThreeIdenticalPlanes) {
  const cv::Mat grey(16, 16, CV_8UC1, cv::Scalar(128));
  PreprocessOptions options;
  options.size = {8, 8};
  const auto t = Preprocess(grey, options);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->channels, 3);
  const float v = 128.0f / 255.0f;
  EXPECT_FLOAT_EQ(t->data[0], (v - 0.485f) / 0.229f);
  EXPECT_FLOAT_EQ(t->data[64], (v - 0.456f) / 0.224f);
  EXPECT_FLOAT_EQ(t->data[128], (v - 0.406f) / 0.225f);
}

TEST(PreprocessTest, SixteenBitUsesFullRangeNotEightBitClip) {
  // Values 1000..3000: PIL's convert('RGB') would clip all of them to 255.
  cv::Mat wide(10, 10, CV_16UC1);
  for (int y = 0; y < 10; ++y) {
    for (int x = 0; x < 10; ++x) wide.at<uint16_t>(y, x) = static_cast<uint16_t>(1000 + 20 * x);
  }
  PreprocessOptions options;
  options.size = {10, 10};
  options.channels = 1;
  options.mean = {0.0f};
  options.std = {1.0f};
  options.normalize.low_percentile = 0.0;
  options.normalize.high_percentile = 100.0;
  const auto t = Preprocess(wide, options);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_FLOAT_EQ(t->data[0], 0.0f);
  EXPECT_FLOAT_EQ(t->data[9], 1.0f);
  EXPECT_NEAR(t->data[4], 80.0 / 180.0, 1e-6);
}

// An 8-bit image already at the model size skips the resize (Pillow returns it unchanged) and
// goes to planar through a table; both must give the bits of the two-step reference path.
TEST(PreprocessTest, EightBitAtModelSizeMatchesTwoStepReference) {
  for (int channels : {1, 3}) {
    SCOPED_TRACE(channels);
    cv::Mat img(45, 61, CV_MAKETYPE(CV_8U, channels));
    cv::randu(img, 0, 256);
    PreprocessOptions options;
    options.size = img.size();
    options.channels = channels;
    options.mean.resize(channels);
    options.std.resize(channels);
    const auto fast = Preprocess(img, options);
    ASSERT_TRUE(fast.ok()) << fast.status().ToString();
    const auto unit = NormalizeToUnit(img, options.normalize);
    ASSERT_TRUE(unit.ok());
    const auto reference = NormalizeToPlanar(*unit, options.mean, options.std);
    ASSERT_TRUE(reference.ok());
    ASSERT_EQ(fast->data.size(), reference->data.size());
    EXPECT_EQ(
        std::memcmp(fast->data.data(), reference->data.data(), fast->data.size() * sizeof(float)),
        0);
    // Percentile normalisation of 8-bit data still stretches: a dim image fills [0, 1].
    cv::Mat dim = img / 4;
    options.mean.assign(channels, 0.0f);
    options.std.assign(channels, 1.0f);
    options.normalize.mode = NormalizeMode::kPercentile;
    const auto stretched = Preprocess(dim, options);
    ASSERT_TRUE(stretched.ok());
    EXPECT_FLOAT_EQ(*std::max_element(stretched->data.begin(), stretched->data.end()), 1.0f);
  }
}

TEST(PreprocessTest, RejectsMismatchedStatistics) {
  PreprocessOptions options;
  options.mean = {0.5f};
  EXPECT_EQ(Preprocess(cv::Mat(4, 4, CV_8UC3), options).status().code(),
            StatusCode::kInvalidArgument);
  options = {};
  options.std = {1.0f, 0.0f, 1.0f};
  EXPECT_FALSE(Preprocess(cv::Mat(4, 4, CV_8UC3), options).ok());
  EXPECT_FALSE(Preprocess(cv::Mat(), {}).ok());
}

}  // namespace
}  // namespace seghub::imaging
