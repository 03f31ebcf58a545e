#include "signals/signal_io.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace seghub::signals {
namespace {

// Builds an .npy file byte by byte (independently of the parser) from row-major `values`.
std::string MakeNpy(int major, const std::string& descr, bool fortran, const std::string& shape,
                    const std::vector<double>& values, size_t rows, size_t cols) {
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
  const size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const size_t len = header.size();
  for (size_t i = 0; i < (major == 1 ? 2u : 4u); ++i)
    out += static_cast<char>((len >> 8 * i) & 255);
  out += header;
  const size_t width = descr[2] - '0';
  const bool big = descr[0] == '>';
  for (size_t k = 0; k < values.size(); ++k) {
    // Element k of the file's storage order.
    const size_t r = fortran ? k % rows : k / cols;
    const size_t c = fortran ? k / rows : k % cols;
    const double v = values[r * cols + c];
    char buf[8];
    if (width == 4) {
      const float f = static_cast<float>(v);
      std::memcpy(buf, &f, 4);
    } else {
      std::memcpy(buf, &v, 8);
    }
    if (big) std::reverse(buf, buf + width);  // test host is little-endian x86-64/arm64
    out.append(buf, width);
  }
  return out;
}

std::vector<double> Iota(size_t n, double scale) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = scale * (static_cast<double>(i) - 2.5);
  return v;
}

void ExpectRowMajor(const Signals& s, const std::vector<double>& values, size_t rows, size_t cols) {
  ASSERT_EQ(s.size(), rows);
  for (size_t r = 0; r < rows; ++r) {
    ASSERT_EQ(s[r].size(), cols);
    for (size_t c = 0; c < cols; ++c) EXPECT_EQ(s[r][c], values[r * cols + c]) << r << "," << c;
  }
}

TEST(NpyTest, ParsesAllVersionsDtypesOrdersAndEndianness) {
  const std::vector<double> values = Iota(12, 0.5);  // exactly representable in float32 too
  for (int major : {1, 2, 3}) {
    for (const char* descr : {"<f8", ">f8", "<f4", ">f4", "=f8"}) {
      for (bool fortran : {false, true}) {
        auto s = ParseNpy(MakeNpy(major, descr, fortran, "(3, 4)", values, 3, 4));
        ASSERT_TRUE(s.ok()) << major << descr << fortran << s.status().ToString();
        ExpectRowMajor(*s, values, 3, 4);
      }
    }
  }
}

TEST(NpyTest, OneDimensionalIsOneSignal) {
  const std::vector<double> values = Iota(5, 1.25);
  auto s = ParseNpy(MakeNpy(1, "<f8", false, "(5,)", values, 1, 5));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ExpectRowMajor(*s, values, 1, 5);
}

TEST(NpyTest, RealPdFileIs7By7920) {
  auto s = ReadSignalFile(std::string(SEGHUB_SHARED_DIR) + "/data/pd/test_dataa.npy");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->size(), 7u);
  // Cross-check a few samples against the raw little-endian doubles after the 128-byte header.
  std::ifstream in(std::string(SEGHUB_SHARED_DIR) + "/data/pd/test_dataa.npy", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  for (size_t r = 0; r < 7; ++r) {
    ASSERT_EQ((*s)[r].size(), 7920u);
    for (size_t c : {size_t{0}, size_t{4000}, size_t{7919}}) {
      double v;
      std::memcpy(&v, bytes.data() + 128 + 8 * (r * 7920 + c), 8);
      EXPECT_EQ((*s)[r][c], v);
    }
  }
}

void ExpectError(const Result<Signals>& r, StatusCode code, const std::string& needle) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().ToString();
}

TEST(NpyTest, RejectsCorruptFiles) {
  const std::vector<double> values = Iota(6, 1.0);
  const std::string good = MakeNpy(1, "<f8", false, "(2, 3)", values, 2, 3);
  ExpectError(ParseNpy("hello world, not npy"), StatusCode::kInvalidArgument, "magic");
  ExpectError(ParseNpy(""), StatusCode::kInvalidArgument, "magic");
  std::string bad_version = good;
  bad_version[6] = 9;
  ExpectError(ParseNpy(bad_version), StatusCode::kInvalidArgument, "version");
  ExpectError(ParseNpy(good.substr(0, 40)), StatusCode::kInvalidArgument, "truncated npy header");
  ExpectError(ParseNpy(good.substr(0, good.size() - 3)), StatusCode::kInvalidArgument, "truncated");
  ExpectError(ParseNpy(good + "xx"), StatusCode::kInvalidArgument, "need 48");
  ExpectError(ParseNpy(MakeNpy(1, "<i4", false, "(6,)", {}, 1, 6)), StatusCode::kInvalidArgument,
              "'<i4'");
  ExpectError(ParseNpy(MakeNpy(1, "<f8", false, "(1, 2, 3)", values, 2, 3)),
              StatusCode::kInvalidArgument, "3-D");
  ExpectError(ParseNpy(MakeNpy(1, "<f8", false, "(0,)", {}, 1, 0)), StatusCode::kInvalidArgument,
              "empty");
  std::string no_shape = good;
  no_shape.replace(no_shape.find("'shape'"), 7, "'shapo'");
  ExpectError(ParseNpy(no_shape), StatusCode::kInvalidArgument, "'shape'");
}

TEST(NpyTest, EnforcesLimitsAndFiniteness) {
  const std::vector<double> values = Iota(6, 1.0);
  const std::string good = MakeNpy(1, "<f8", false, "(2, 3)", values, 2, 3);
  ExpectError(ParseNpy(good, {.max_bytes = 100}), StatusCode::kPayloadTooLarge, "limit");
  ExpectError(ParseNpy(good, {.max_total_samples = 5}), StatusCode::kPayloadTooLarge, "(2, 3)");
  // A shape whose element count overflows size_t must not wrap around the check.
  ExpectError(ParseNpy(MakeNpy(1, "<f8", false, "(4294967296, 4294967296)", {}, 1, 1)),
              StatusCode::kPayloadTooLarge, "limit");
  std::vector<double> with_nan = values;
  with_nan[4] = std::numeric_limits<double>::quiet_NaN();
  ExpectError(ParseNpy(MakeNpy(1, "<f8", false, "(2, 3)", with_nan, 2, 3)),
              StatusCode::kInvalidArgument, "signal 1 at sample 1");
}

TEST(CsvTest, RowsAndColumnsLayouts) {
  const std::string text = "1, 2, 3\r\n\n4,5,6\n";
  auto rows = ParseCsv(text);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ExpectRowMajor(*rows, {1, 2, 3, 4, 5, 6}, 2, 3);
  auto cols = ParseCsv(text, {.layout = CsvLayout::kColumns});
  ASSERT_TRUE(cols.ok());
  ExpectRowMajor(*cols, {1, 4, 2, 5, 3, 6}, 3, 2);
  auto semi = ParseCsv("1.5e3;-2;+0.25", {.delimiter = ';'});
  ASSERT_TRUE(semi.ok()) << semi.status().ToString();
  ExpectRowMajor(*semi, {1500, -2, 0.25}, 1, 3);
}

TEST(CsvTest, RowsMayBeRaggedButColumnsMustBeRectangular) {
  auto rows = ParseCsv("1,2,3\n4,5\n");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].size(), 3u);
  EXPECT_EQ((*rows)[1].size(), 2u);
  ExpectError(ParseCsv("1,2,3\n4,5\n", {.layout = CsvLayout::kColumns}),
              StatusCode::kInvalidArgument, "line 2 has 2 cells, expected 3");
}

TEST(CsvTest, SkipsAnAllTextHeaderLineOnly) {
  auto s = ParseCsv("ch1,ch2\n1,2\n3,4\n", {.layout = CsvLayout::kColumns});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ExpectRowMajor(*s, {1, 3, 2, 4}, 2, 2);
  ExpectError(ParseCsv("time,2\n1,2\n"), StatusCode::kInvalidArgument,
              "line 1, column 1: 'time' is not a number");
  ExpectError(ParseCsv("a,b\nc,d\n"), StatusCode::kInvalidArgument, "line 2, column 1");
}

TEST(CsvTest, ReportsBadCellsWithLineAndColumn) {
  ExpectError(ParseCsv("1,2\n3,4\n5,x7\n"), StatusCode::kInvalidArgument,
              "line 3, column 2: 'x7' is not a number");
  ExpectError(ParseCsv("1,,3\n"), StatusCode::kInvalidArgument, "line 1, column 2: empty cell");
  ExpectError(ParseCsv("1,2,\n"), StatusCode::kInvalidArgument, "column 3: empty cell");
  ExpectError(ParseCsv("1,2\n3,4.5.6\n"), StatusCode::kInvalidArgument, "line 2, column 2");
  ExpectError(ParseCsv("1,nan\n"), StatusCode::kInvalidArgument, "non-finite");
  ExpectError(ParseCsv("\n\n"), StatusCode::kInvalidArgument, "no numeric data");
  ExpectError(ParseCsv("only,a,header\n"), StatusCode::kInvalidArgument, "no numeric data");
  ExpectError(ParseCsv("1,2,3\n4,5,6\n", {}, {.max_total_samples = 4}),
              StatusCode::kPayloadTooLarge, "limit of 4");
}

std::string RawBytes(const std::vector<float>& v) {
  std::string out(v.size() * 4, '\0');
  std::memcpy(out.data(), v.data(), out.size());  // little-endian host
  return out;
}

TEST(RawTest, ParsesFloat32AndRejectsPartialSamples) {
  auto s = ParseRawFloat32(RawBytes({1.5f, -2.0f, 1e6f}));
  ASSERT_TRUE(s.ok());
  ExpectRowMajor(*s, {1.5, -2.0, 1e6}, 1, 3);
  ExpectError(ParseRawFloat32(RawBytes({1.0f, 2.0f}).substr(0, 7)), StatusCode::kInvalidArgument,
              "not a multiple of 4");
  ExpectError(ParseRawFloat32(""), StatusCode::kInvalidArgument, "empty");
  ExpectError(ParseRawFloat32(RawBytes({1, 2, 3}), {.max_total_samples = 2}),
              StatusCode::kPayloadTooLarge, "limit");
}

class ReadSignalFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& bytes) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path.string();
  }
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("seghub_signal_io_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ReadSignalFileTest, DetectsFormatByMagicAndExtension) {
  const std::vector<double> values = Iota(4, 2.0);
  auto npy = ReadSignalFile(Write("a.dat", MakeNpy(1, "<f8", false, "(4,)", values, 1, 4)));
  ASSERT_TRUE(npy.ok()) << npy.status().ToString();
  ExpectRowMajor(*npy, values, 1, 4);
  auto csv = ReadSignalFile(Write("b.CSV", "1\n2\n3\n"), SignalFormat::kAuto,
                            {.layout = CsvLayout::kColumns});
  ASSERT_TRUE(csv.ok());
  ExpectRowMajor(*csv, {1, 2, 3}, 1, 3);
  auto raw = ReadSignalFile(Write("c.f32", RawBytes({4.0f, 5.0f})));
  ASSERT_TRUE(raw.ok());
  ExpectRowMajor(*raw, {4, 5}, 1, 2);
  ExpectError(ReadSignalFile(Write("d.xyz", "1,2")), StatusCode::kInvalidArgument,
              "cannot tell the format");
  ExpectError(ReadSignalFile((dir_ / "missing.npy").string()), StatusCode::kNotFound,
              "missing.npy");
  ExpectError(ReadSignalFile(Write("e.csv", "1,2,3,4,5,6,7,8,9"), SignalFormat::kAuto, {},
                             {.max_bytes = 8}),
              StatusCode::kPayloadTooLarge, "file size");
}

}  // namespace
}  // namespace seghub::signals
