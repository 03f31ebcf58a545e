#include "engine/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace seghub::engine {
namespace {

const std::filesystem::path kHubDir =
    std::filesystem::path(SEGHUB_SHARED_DIR) / "reference" / "hub-models";

std::vector<uint8_t> Bytes(const std::vector<float>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(float));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

// A file built by hand: header length, JSON text, then `data`.
std::vector<uint8_t> RawFile(const std::string& json, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out(8);
  const uint64_t n = json.size();
  std::memcpy(out.data(), &n, 8);
  out.insert(out.end(), json.begin(), json.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

TEST(SafetensorsTest, RoundTripKeepsOrderDtypesShapesAndMetadata) {
  const std::vector<float> a = {1.5f, -2.0f, 3.25f, 4.0f, 5.0f, 6.0f};
  const std::vector<uint8_t> b = {7, 8, 9};
  const std::vector<int64_t> c = {-1, 1LL << 40};
  std::vector<uint8_t> c_bytes(c.size() * 8);
  std::memcpy(c_bytes.data(), c.data(), c_bytes.size());
  auto a_bytes = Bytes(a);
  // Deliberately not alphabetical: data order must survive although JSON keys may be sorted.
  std::vector<SafetensorsTensorView> views = {{"zeta.weight", DType::kF32, {2, 3}, a_bytes},
                                              {"alpha", DType::kU8, {3}, b},
                                              {"mid", DType::kI64, {2}, c_bytes}};
  auto bytes = SerializeSafetensors(views, {{"format", "pt"}});
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes->data(), 8);
  EXPECT_EQ(header_len % 8, 0u);

  auto file = SafetensorsFile::Parse(*bytes);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->tensors().size(), 3u);
  EXPECT_EQ(file->tensors()[0].name, "zeta.weight");
  EXPECT_EQ(file->tensors()[1].name, "alpha");
  EXPECT_EQ(file->tensors()[2].name, "mid");
  EXPECT_EQ(file->metadata().at("format"), "pt");
  const SafetensorsEntry* za = file->Find("zeta.weight");
  ASSERT_NE(za, nullptr);
  EXPECT_EQ(za->dtype, DType::kF32);
  EXPECT_EQ(za->shape, (Shape{2, 3}));
  auto data = file->Data(*za);
  ASSERT_EQ(data.size(), a_bytes.size());
  EXPECT_EQ(0, std::memcmp(data.data(), a_bytes.data(), data.size()));
  auto mid = file->Data(*file->Find("mid"));
  int64_t back[2];
  std::memcpy(back, mid.data(), 16);
  EXPECT_EQ(back[1], 1LL << 40);
  EXPECT_EQ(file->Find("missing"), nullptr);
}

TEST(SafetensorsTest, WriterRejectsSizeMismatchAndDuplicates) {
  const std::vector<uint8_t> four(4);
  EXPECT_EQ(SerializeSafetensors({{"x", DType::kF32, {2}, four}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SerializeSafetensors({{"x", DType::kF32, {1}, four}, {"x", DType::kF32, {1}, four}})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST(SafetensorsTest, WriteAndReadFile) {
  const auto path = std::filesystem::temp_directory_path() / "seghub_safetensors_test.safetensors";
  auto bytes = Bytes({1, 2, 3});
  ASSERT_TRUE(WriteSafetensors(path, {{"t", DType::kF32, {3}, bytes}}).ok());
  auto file = SafetensorsFile::Read(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->tensors().at(0).shape, (Shape{3}));
  std::filesystem::remove(path);
  EXPECT_EQ(SafetensorsFile::Read(path).status().code(), StatusCode::kNotFound);
}

struct CorruptCase {
  const char* label;
  std::vector<uint8_t> contents;
  const char* expected_fragment;
};

TEST(SafetensorsTest, CorruptFilesGiveInvalidArgument) {
  const std::vector<uint8_t> data8(8, 0);
  std::vector<uint8_t> huge_len(16, 0);
  const uint64_t big = ~0ull;
  std::memcpy(huge_len.data(), &big, 8);
  std::vector<uint8_t> truncated =
      RawFile(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data8);
  truncated.resize(truncated.size() - 3);
  const std::vector<CorruptCase> cases = {
      {"empty", {}, "shorter"},
      {"short", {1, 2, 3}, "shorter"},
      {"header too long", huge_len, "header length"},
      {"bad json", RawFile("{\"t\": [", data8), "not valid JSON"},
      {"not object", RawFile("[1,2]", data8), "not a JSON object"},
      {"missing fields", RawFile(R"({"t":{"dtype":"F32"}})", data8), "lacks"},
      {"bad dtype", RawFile(R"({"t":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", data8),
       "unsupported dtype"},
      {"negative dim", RawFile(R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data8),
       "negative"},
      {"offsets beyond data", truncated, "outside the data section"},
      {"reversed offsets",
       RawFile(R"({"t":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", data8), "outside"},
      {"size mismatch", RawFile(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data8),
       "needs 12 bytes"},
      {"overflowing shape",
       RawFile(R"({"t":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
               data8),
       "overflows"},
      {"overlap",
       RawFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
               R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
               data8),
       "overlap"},
      {"metadata not strings", RawFile(R"({"__metadata__":{"k":3}})", {}), "__metadata__"},
      {"offsets not ints",
       RawFile(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", data8), "data_offsets"},
  };
  for (const auto& c : cases) {
    auto file = SafetensorsFile::Parse(c.contents);
    ASSERT_FALSE(file.ok()) << c.label;
    EXPECT_EQ(file.status().code(), StatusCode::kInvalidArgument) << c.label;
    EXPECT_NE(file.status().message().find(c.expected_fragment), std::string::npos)
        << c.label << ": " << file.status().message();
  }
}

TEST(SafetensorsTest, EveryTruncationOfAValidFileFailsCleanly) {
  auto a = Bytes({1, 2, 3, 4});
  auto bytes = SerializeSafetensors({{"a", DType::kF32, {4}, a}, {"b", DType::kF32, {4}, a}});
  ASSERT_TRUE(bytes.ok());
  for (size_t n = 0; n < bytes->size(); ++n) {
    std::vector<uint8_t> cut(bytes->begin(), bytes->begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(SafetensorsFile::Parse(cut).ok()) << "length " << n;
  }
}

// The Hub's reference weights: names, shapes and order must equal unet_small_state_dict.tsv.
TEST(SafetensorsTest, ReadsHubUnetSmallWeightsMatchingTsv) {
  auto file = SafetensorsFile::Read(kHubDir / "unet_small_weights.safetensors");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  std::ifstream tsv(kHubDir / "unet_small_state_dict.tsv");
  ASSERT_TRUE(tsv.good());
  std::string line;
  std::getline(tsv, line);  // header
  size_t index = 0;
  while (std::getline(tsv, line)) {
    std::istringstream fields(line);
    std::string idx, name, shape_text, dtype;
    fields >> idx >> name >> shape_text >> dtype;
    Shape shape;
    std::istringstream dims(shape_text);
    for (std::string d; std::getline(dims, d, 'x');) shape.push_back(std::stoll(d));
    ASSERT_LT(index, file->tensors().size());
    const SafetensorsEntry& e = file->tensors()[index];
    EXPECT_EQ(e.name, name) << "index " << index;
    EXPECT_EQ(e.shape, shape) << name;
    EXPECT_EQ(e.dtype, DType::kF32) << name;
    ++index;
  }
  EXPECT_EQ(index, 70u);
  EXPECT_EQ(file->tensors().size(), 70u);
  EXPECT_TRUE(file->metadata().count("model"));
}

}  // namespace
}  // namespace seghub::engine
