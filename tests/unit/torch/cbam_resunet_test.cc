// The C++-defined CBAM-ResUNet against the Hub's specification and test vectors.
#include "models/cbam_resunet.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include "hub_vectors.h"
#include "models/network.h"
#include "test_data.h"

namespace seghub::models {
namespace {

using seghub::testing::Compare;
using seghub::testing::ExpectParamsEqualTsv;
using seghub::testing::ForwardNet;
using seghub::testing::HubCase;
using seghub::testing::HubDir;
using seghub::testing::LoadF32Tensor;
using seghub::testing::ReadF32;

const nlohmann::json kSmall = {{"features", {8, 16, 24, 40}}};
constexpr char kWeights[] = "cbam_resunet_small_weights.safetensors";

const HubCase kCases[] = {
    {"shared_input_A_1x3x64x64.f32",
     "cbam_resunet_small_output_A_1x1x64x64.f32",
     "cbam_resunet_small_output_A_1x1x64x64_f64ref.f64",
     {1, 3, 64, 64},
     {1, 1, 64, 64}},
    {"shared_input_B_2x3x50x76.f32",
     "cbam_resunet_small_output_B_2x1x50x76.f32",
     "cbam_resunet_small_output_B_2x1x50x76_f64ref.f64",
     {2, 3, 50, 76},
     {2, 1, 50, 76}},
};

NetworkSpec BuildSmallWithWeights() {
  auto net = BuildNetwork("cbam_resunet", kSmall);
  EXPECT_TRUE(net.ok()) << net.status().ToString();
  Status s = LoadSafetensorsWeights(&*net, HubDir() / kWeights);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::move(net).value();
}

TEST(CbamResUnetTest, ParameterNamesShapesAndOrderEqualHubTsvs) {
  CbamResUnetConfig small;
  small.features = {8, 16, 24, 40};
  ExpectParamsEqualTsv(CbamResUnetParams(small), "cbam_resunet_small_state_dict.tsv");
  ExpectParamsEqualTsv(CbamResUnetParams(CbamResUnetConfig{}), "cbam_resunet_state_dict.tsv");
  int64_t production = 0;
  for (const auto& p : CbamResUnetParams(CbamResUnetConfig{})) {
    production += c10::multiply_integers(p.shape);
  }
  EXPECT_EQ(production, 52072673);
}

TEST(CbamResUnetTest, RejectsBadArchParamsAndInputs) {
  EXPECT_EQ(BuildNetwork("cbam_resunet", {{"features", {8, 1}}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildNetwork("cbam_resunet", {{"features", "wide"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildNetwork("cbam_resunet", {{"out_channels", 0}}).status().code(),
            StatusCode::kInvalidArgument);
  auto net = BuildNetwork("cbam_resunet", kSmall);
  ASSERT_TRUE(net.ok());
  EXPECT_TRUE(net->check_input({1, 3, 32, 16}).ok());   // bottleneck 2x1
  EXPECT_FALSE(net->check_input({1, 3, 16, 16}).ok());  // bottleneck 1x1
  EXPECT_FALSE(net->check_input({1, 1, 64, 64}).ok());  // channels
  EXPECT_FALSE(net->check_input({3, 64, 64}).ok());     // rank
}

TEST(CbamResUnetTest, RandomInitSeed2ReproducesReferenceWeightsBitwise) {
  auto net = BuildNetwork("cbam_resunet", kSmall);
  ASSERT_TRUE(net.ok());
  RandomInit(&*net, 2);
  auto tensors = ReadSafetensorsTensors(HubDir() / kWeights);
  ASSERT_TRUE(tensors.ok()) << tensors.status().ToString();
  ASSERT_EQ(tensors->size(), net->params.size());
  for (const auto& p : net->params) {
    EXPECT_TRUE(torch::equal(GetParameter(*net, p.hub_name), tensors->at(p.hub_name)))
        << p.hub_name;
  }
  EXPECT_EQ(CbamResUnetFeaturesFromStateDict(*tensors), (std::vector<int64_t>{8, 16, 24, 40}));
}

TEST(CbamResUnetTest, MatchesHubTestVectorsFloat32) {
  NetworkSpec net = BuildSmallWithWeights();
  for (const auto& c : kCases) {
    at::Tensor y = ForwardNet(net, LoadF32Tensor(c.input, c.in_shape));
    ASSERT_EQ(y.sizes(), at::IntArrayRef(c.out_shape)) << c.output;
    auto a = Compare(testing::ToFloatVector(y), ReadF32(HubDir() / c.output));
    ASSERT_TRUE(a.size_ok);
    EXPECT_LE(a.max_abs, a.max_tol) << c.output;
    EXPECT_LE(a.mean_abs, 5e-5) << c.output;
    EXPECT_EQ(a.sign_flips, 0) << c.output;
    std::cout << c.output << ": max abs diff " << a.max_abs << " (tol " << a.max_tol << "), mean "
              << a.mean_abs << "\n";
  }
}

// In float64 the only differences left are summation order: this pins the structure exactly.
TEST(CbamResUnetTest, MatchesHubFloat64References) {
  NetworkSpec net = BuildSmallWithWeights();
  net.module.to(at::kDouble);
  for (const auto& c : kCases) {
    at::Tensor y = ForwardNet(net, LoadF32Tensor(c.input, c.in_shape).to(at::kDouble));
    const auto ref = testing::ReadF64(HubDir() / c.output_f64);
    const double diff = testing::MaxAbsDiffF64(y, ref);
    EXPECT_LE(diff, 1e-9 * std::max(1.0, testing::MaxAbs(ref))) << c.output_f64;
    std::cout << c.output_f64 << ": max abs diff " << diff << "\n";
  }
}

// The torch backend serves a frozen, inference-optimised copy: it must still match.
TEST(CbamResUnetTest, FrozenAndOptimizedModuleMatchesHubTestVectors) {
  NetworkSpec net = BuildSmallWithWeights();
  net.module.eval();
  torch::jit::Module frozen = torch::jit::freeze(net.module);
  net.module = torch::jit::optimize_for_inference(frozen);
  for (const auto& c : kCases) {
    at::Tensor y = ForwardNet(net, LoadF32Tensor(c.input, c.in_shape));
    auto a = Compare(testing::ToFloatVector(y), ReadF32(HubDir() / c.output));
    ASSERT_TRUE(a.size_ok) << c.output;
    EXPECT_LE(a.max_abs, a.max_tol) << c.output;
    EXPECT_EQ(a.sign_flips, 0) << c.output;
    std::cout << "frozen " << c.output << ": max abs diff " << a.max_abs << "\n";
  }
}

TEST(CbamResUnetTest, AttentionGateBiasesCancelInInstanceNorm) {
  NetworkSpec net = BuildSmallWithWeights();
  const at::Tensor x = LoadF32Tensor(kCases[1].input, kCases[1].in_shape);
  const at::Tensor before = ForwardNet(net, x);
  {
    torch::NoGradGuard no_grad;
    GetParameter(net, "attentions.0.W_g.0.bias").add_(0.7);
    GetParameter(net, "attentions.2.psi.0.bias").add_(0.7);
  }
  EXPECT_LE((ForwardNet(net, x) - before).abs().max().item<double>(), 1e-4);
  {
    torch::NoGradGuard no_grad;
    GetParameter(net, "attentions.2.psi.1.bias").add_(0.7);
  }
  EXPECT_GT((ForwardNet(net, x) - before).abs().max().item<double>(), 1e-3);
}

}  // namespace
}  // namespace seghub::models
