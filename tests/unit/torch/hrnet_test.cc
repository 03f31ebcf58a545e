// The C++-defined HRNetV2-W48 against the Hub's specification and test vectors (hash-fill
// weights, seed 3: the full network is too large to ship).
#include "models/hrnet.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

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

const HubCase kCases[] = {
    {"hrnet_input_A_1x3x128x128.f32",
     "hrnet_output_A_1x1x128x128.f32",
     "hrnet_output_A_1x1x128x128_f64ref.f64",
     {1, 3, 128, 128},
     {1, 1, 128, 128}},
    {"hrnet_input_B_1x3x90x130.f32",
     "hrnet_output_B_1x1x92x132.f32",
     "hrnet_output_B_1x1x92x132_f64ref.f64",
     {1, 3, 90, 130},
     {1, 1, 92, 132}},
};

// The production network with seed-3 fill weights, built once (65.8 M parameters).
class HrnetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto net = BuildNetwork("hrnet", nlohmann::json::object());
    ASSERT_TRUE(net.ok()) << net.status().ToString();
    RandomInit(&*net, 3);
    net_ = new NetworkSpec(std::move(net).value());
  }
  static void TearDownTestSuite() {
    delete net_;
    net_ = nullptr;
  }
  static NetworkSpec* net_;
};
NetworkSpec* HrnetTest::net_ = nullptr;

TEST(HrnetSpecTest, ParameterNamesShapesAndOrderEqualHubTsv) {
  const auto params = HrnetParams(HrnetConfig{});
  ExpectParamsEqualTsv(params, "hrnet_state_dict.tsv");
  int64_t total = 0;
  for (const auto& p : params) total += c10::multiply_integers(p.shape);
  EXPECT_EQ(total, 65846401);
}

TEST(HrnetSpecTest, OutputSizeRule) {
  EXPECT_EQ(HrnetOutputSize(64), 64);
  EXPECT_EQ(HrnetOutputSize(90), 92);
  EXPECT_EQ(HrnetOutputSize(130), 132);
  EXPECT_EQ(HrnetOutputSize(97), 100);
  EXPECT_EQ(HrnetOutputSize(33), 36);
}

// A narrow variant through arch_params: runs, keeps the size rule, and rejects tiny inputs.
TEST(HrnetSpecTest, SmallVariantAndInputChecks) {
  const nlohmann::json small = {{"widths", {4, 8, 16, 32}},
                                {"modules", {1, 1, 1}},
                                {"blocks", 1},
                                {"stem_width", 8},
                                {"stage1_blocks", 1}};
  auto net = BuildNetwork("hrnet", small);
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  EXPECT_TRUE(net->check_input({2, 3, 35, 33}).ok());
  EXPECT_FALSE(net->check_input({1, 3, 32, 32}).ok());  // coarsest branch 1x1
  EXPECT_FALSE(net->check_input({1, 1, 64, 64}).ok());
  at::Tensor y = ForwardNet(*net, torch::randn({2, 3, 35, 33}));
  EXPECT_EQ(y.sizes(), at::IntArrayRef({2, 1, 36, 36}));
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());

  EXPECT_EQ(BuildNetwork("hrnet", {{"widths", {48}}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildNetwork("hrnet", {{"modules", {1, 4}}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildNetwork("hrnet", {{"blocks", 0}}).status().code(), StatusCode::kInvalidArgument);
}

// hrnet_fill_checksums.tsv: index, name, shape, sum, sum_abs, first, last per entry.
TEST_F(HrnetTest, FillRuleMatchesChecksums) {
  std::ifstream in(HubDir() / "hrnet_fill_checksums.tsv");
  std::string line;
  std::getline(in, line);
  size_t k = 0;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string index, name, shape, sum, sum_abs, first, last;
    if (!(f >> index >> name >> shape >> sum >> sum_abs >> first >> last)) continue;  // total
    ASSERT_LT(k, net_->params.size());
    ASSERT_EQ(net_->params[k].hub_name, name);
    const at::Tensor t = GetParameter(*net_, name).contiguous();
    const float* p = t.data_ptr<float>();
    double s = 0, sa = 0;
    for (int64_t j = 0; j < t.numel(); ++j) s += p[j], sa += std::fabs(p[j]);
    EXPECT_NEAR(s, std::stod(sum), 1e-12 * std::max(1.0, std::stod(sum_abs))) << name;
    EXPECT_NEAR(sa, std::stod(sum_abs), 1e-12 * std::stod(sum_abs)) << name;
    EXPECT_EQ(p[0], std::strtof(first.c_str(), nullptr)) << name;
    EXPECT_EQ(p[t.numel() - 1], std::strtof(last.c_str(), nullptr)) << name;
    ++k;
  }
  EXPECT_EQ(k, 921u);
}

TEST(HrnetSpecTest, InputFilesFollowTheFillRule) {
  const std::pair<const HubCase*, uint32_t> inputs[] = {{&kCases[0], 103}, {&kCases[1], 104}};
  for (const auto& [c, seed] : inputs) {
    const auto v = ReadF32(HubDir() / c->input);
    ASSERT_EQ(static_cast<int64_t>(v.size()), c10::multiply_integers(c->in_shape));
    for (size_t j = 0; j < v.size(); ++j) {
      ASSERT_EQ(v[j], static_cast<float>(2.0 * FillUniform(seed, 0, static_cast<uint32_t>(j))))
          << c->input << " element " << j;
    }
  }
}

TEST_F(HrnetTest, MatchesHubTestVectorsFloat32) {
  for (const auto& c : kCases) {
    at::Tensor y = ForwardNet(*net_, LoadF32Tensor(c.input, c.in_shape));
    ASSERT_EQ(y.sizes(), at::IntArrayRef(c.out_shape)) << c.output;
    auto a = Compare(testing::ToFloatVector(y), ReadF32(HubDir() / c.output), 5e-4);
    ASSERT_TRUE(a.size_ok);
    EXPECT_LE(a.max_abs, a.max_tol) << c.output;
    EXPECT_LE(a.mean_abs, 2e-4) << c.output;
    EXPECT_EQ(a.sign_flips, 0) << c.output;
    std::cout << c.output << ": max abs diff " << a.max_abs << " (tol " << a.max_tol << "), mean "
              << a.mean_abs << "\n";
  }
}

// The torch backend serves a frozen, inference-optimised copy: it must still match.
TEST_F(HrnetTest, FrozenAndOptimizedModuleMatchesHubTestVector) {
  net_->module.eval();
  NetworkSpec frozen;
  torch::jit::Module module = torch::jit::freeze(net_->module);
  frozen.module = torch::jit::optimize_for_inference(module);
  const HubCase& c = kCases[1];
  at::Tensor y = ForwardNet(frozen, LoadF32Tensor(c.input, c.in_shape));
  auto a = Compare(testing::ToFloatVector(y), ReadF32(HubDir() / c.output), 5e-4);
  ASSERT_TRUE(a.size_ok);
  EXPECT_LE(a.max_abs, a.max_tol);
  EXPECT_EQ(a.sign_flips, 0);
  std::cout << "frozen " << c.output << ": max abs diff " << a.max_abs << "\n";
}

// In float64 only summation order differs from PyTorch: this pins every op and concat order.
TEST_F(HrnetTest, MatchesHubFloat64References) {
  net_->module.to(at::kDouble);
  for (const auto& c : kCases) {
    at::Tensor y = ForwardNet(*net_, LoadF32Tensor(c.input, c.in_shape).to(at::kDouble));
    const auto ref = testing::ReadF64(HubDir() / c.output_f64);
    const double diff = testing::MaxAbsDiffF64(y, ref);
    EXPECT_LE(diff, 1e-9 * std::max(1.0, testing::MaxAbs(ref))) << c.output_f64;
    std::cout << c.output_f64 << ": max abs diff " << diff << "\n";
  }
  net_->module.to(at::kFloat);  // exact: the weights came from float32
}

}  // namespace
}  // namespace seghub::models
