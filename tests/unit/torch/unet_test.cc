// The C++-defined U-Net against the Hub's specification and test vectors (unfrozen module).
#include "models/unet.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <filesystem>
#include <fstream>

#include "engine/safetensors.h"
#include "models/network.h"
#include "test_data.h"

namespace seghub::models {
namespace {

using seghub::testing::Compare;
using seghub::testing::HubDir;
using seghub::testing::ReadF32;
using seghub::testing::ReadStateDictTsv;

const nlohmann::json kSmall = {
    {"features", {6, 12, 24, 48, 96}}, {"in_channels", 3}, {"out_channels", 1}};

NetworkSpec BuildSmall() {
  auto net = BuildNetwork("unet", kSmall);
  EXPECT_TRUE(net.ok()) << net.status().ToString();
  return std::move(net).value();
}

at::Tensor Forward(NetworkSpec& net, at::Tensor x) {
  c10::InferenceMode guard;
  net.module.eval();
  return net.module.forward({x}).toTensor().contiguous();
}

at::Tensor LoadInput(const std::string& file, std::vector<int64_t> shape) {
  std::vector<float> v = ReadF32(HubDir() / file);
  EXPECT_EQ(static_cast<int64_t>(v.size()), c10::multiply_integers(shape)) << file;
  return torch::from_blob(v.data(), shape, at::kFloat).clone();
}

std::vector<float> ToVector(const at::Tensor& t) {
  const float* p = t.data_ptr<float>();
  return {p, p + t.numel()};
}

void ExpectParamsEqualTsv(const std::vector<ParamSpec>& params, const std::string& tsv) {
  const auto expected = ReadStateDictTsv(HubDir() / tsv);
  ASSERT_EQ(params.size(), expected.size()) << tsv;
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(params[i].hub_name, expected[i].name) << tsv << " index " << i;
    EXPECT_EQ(params[i].shape, expected[i].shape) << expected[i].name;
  }
}

TEST(UnetTest, ParameterNamesShapesAndOrderEqualHubTsvs) {
  UnetConfig small;
  small.features = {6, 12, 24, 48, 96};
  ExpectParamsEqualTsv(UnetParams(small), "unet_small_state_dict.tsv");
  ExpectParamsEqualTsv(UnetParams(UnetConfig{}), "unet_state_dict.tsv");  // production
}

TEST(UnetTest, RejectsBadArchParams) {
  EXPECT_EQ(BuildNetwork("unet", {{"features", {8, 12}}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildNetwork("unet", {{"features", {8}}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildNetwork("unet", {{"features", "wide"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildNetwork("no_such_net", {}).status().code(), StatusCode::kNotFound);
}

TEST(UnetTest, FillRuleMatchesReferenceValues) {
  EXPECT_DOUBLE_EQ(FillUniform(3, 0, 0), -0.7252488136291504);
  EXPECT_DOUBLE_EQ(FillUniform(3, 0, 2), 0.11705207824707031);
  EXPECT_DOUBLE_EQ(FillUniform(3, 920, 0), 0.6315007209777832);
  EXPECT_DOUBLE_EQ(FillUniform(103, 0, 0), 0.04074716567993164);
}

// The reference weights were generated with the same rule (seed 1): RandomInit must reproduce them
// bit for bit, which also proves the parameter order.
TEST(UnetTest, RandomInitSeed1ReproducesReferenceWeightsBitwise) {
  NetworkSpec net = BuildSmall();
  RandomInit(&net, 1);
  auto tensors = ReadSafetensorsTensors(HubDir() / "unet_small_weights.safetensors");
  ASSERT_TRUE(tensors.ok()) << tensors.status().ToString();
  for (const auto& p : net.params) {
    EXPECT_TRUE(torch::equal(GetParameter(net, p.hub_name), tensors->at(p.hub_name))) << p.hub_name;
  }
  RandomInit(&net, 2);
  EXPECT_FALSE(
      torch::equal(GetParameter(net, "final_conv.weight"), tensors->at("final_conv.weight")));
}

TEST(UnetTest, MatchesHubTestVectors) {
  NetworkSpec net = BuildSmall();
  ASSERT_TRUE(LoadSafetensorsWeights(&net, HubDir() / "unet_small_weights.safetensors").ok());
  struct Case {
    std::string input, output;
    std::vector<int64_t> in_shape, out_shape;
  };
  const Case cases[] = {
      {"shared_input_A_1x3x64x64.f32",
       "unet_small_output_A_1x1x64x64.f32",
       {1, 3, 64, 64},
       {1, 1, 64, 64}},
      {"shared_input_B_2x3x50x76.f32",
       "unet_small_output_B_2x1x50x76.f32",
       {2, 3, 50, 76},
       {2, 1, 50, 76}},
  };
  for (const auto& c : cases) {
    at::Tensor y = Forward(net, LoadInput(c.input, c.in_shape));
    ASSERT_EQ(y.sizes(), at::IntArrayRef(c.out_shape)) << c.output;
    auto a = Compare(ToVector(y), ReadF32(HubDir() / c.output));
    ASSERT_TRUE(a.size_ok);
    EXPECT_LE(a.max_abs, a.max_tol) << c.output;
    EXPECT_LE(a.mean_abs, 2e-5) << c.output;
    EXPECT_EQ(a.sign_flips, 0) << c.output;
  }
}

TEST(UnetTest, UnusedDownsBlockDoesNotAffectOutput) {
  NetworkSpec net = BuildSmall();
  at::Tensor x = LoadInput("shared_input_B_2x3x50x76.f32", {2, 3, 50, 76});
  at::Tensor before = Forward(net, x);
  {
    torch::NoGradGuard no_grad;
    GetParameter(net, "downs.3.double_conv.0.weight").add_(0.7);
  }
  EXPECT_TRUE(torch::equal(before, Forward(net, x)));
  {
    torch::NoGradGuard no_grad;
    GetParameter(net, "bottleneck.double_conv.0.weight").add_(0.7);
  }
  EXPECT_FALSE(torch::equal(before, Forward(net, x)));
}

TEST(UnetTest, LoadReportsMissingUnexpectedAndMismatchedNames) {
  NetworkSpec net = BuildSmall();
  auto tensors = ReadSafetensorsTensors(HubDir() / "unet_small_weights.safetensors");
  ASSERT_TRUE(tensors.ok());
  auto good = *tensors;
  good["deep_outputs.0.weight"] = torch::zeros({1, 6, 1, 1});  // the Hub ignores these
  EXPECT_TRUE(LoadStateDict(&net, good).ok());

  auto bad = *tensors;
  bad.erase("ups.1.bias");
  bad["module.extra"] = torch::zeros({1});
  bad["final_conv.weight"] = torch::zeros({1, 7, 1, 1});
  const at::Tensor before = GetParameter(net, "init_conv.double_conv.0.weight").clone();
  bad["init_conv.double_conv.0.weight"] = torch::zeros({6, 3, 3, 3});
  Status s = LoadStateDict(&net, bad);
  ASSERT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("missing [ups.1.bias]"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("unexpected [module.extra]"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("final_conv.weight (checkpoint [1, 7, 1, 1]"), std::string::npos)
      << s.message();
  // A failed load leaves the parameters untouched.
  EXPECT_TRUE(torch::equal(before, GetParameter(net, "init_conv.double_conv.0.weight")));
}

TEST(UnetTest, WeightFilesWithWrongArchitectureOrCorruptionFailCleanly) {
  auto wider = BuildNetwork("unet", {{"features", {8, 16, 32, 64, 128}}});
  ASSERT_TRUE(wider.ok());
  Status s = LoadSafetensorsWeights(&*wider, HubDir() / "unet_small_weights.safetensors");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("mismatch"), std::string::npos) << s.message();

  NetworkSpec net = BuildSmall();
  EXPECT_EQ(LoadSafetensorsWeights(&net, "/nonexistent/w.safetensors").code(),
            StatusCode::kNotFound);
  const auto corrupt = std::filesystem::temp_directory_path() / "seghub_unet_corrupt.safetensors";
  {
    std::ifstream in(HubDir() / "unet_small_weights.safetensors", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bytes.resize(bytes.size() / 2);  // truncated download
    std::ofstream(corrupt, std::ios::binary) << bytes;
  }
  s = LoadSafetensorsWeights(&net, corrupt);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  std::filesystem::remove(corrupt);
}

TEST(UnetTest, SaveThenLoadRoundTrips) {
  NetworkSpec a = BuildSmall();
  RandomInit(&a, 42);
  const auto path = std::filesystem::temp_directory_path() / "seghub_unet_roundtrip.safetensors";
  ASSERT_TRUE(SaveSafetensorsWeights(a, path, {{"architecture", "unet"}}).ok());
  NetworkSpec b = BuildSmall();
  ASSERT_TRUE(LoadSafetensorsWeights(&b, path).ok());
  for (const auto& p : a.params) {
    EXPECT_TRUE(torch::equal(GetParameter(a, p.hub_name), GetParameter(b, p.hub_name)));
  }
  auto file = engine::SafetensorsFile::Read(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->tensors().front().name, "init_conv.double_conv.0.weight");
  EXPECT_EQ(file->metadata().at("architecture"), "unet");
  EXPECT_EQ(ParameterBytes(a), 398827 * 4);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace seghub::models
