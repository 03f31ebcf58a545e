// The PD network: shapes, batch independence in eval mode, stable state_dict names, training
// mode updating the BatchNorm statistics, and input checks.
#include "models/unet1d.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include "models/network.h"

namespace seghub::models {
namespace {

const nlohmann::json kSmall = {{"base_width", 4}};

NetworkSpec BuildSmall() {
  auto net = BuildNetwork("unet1d", kSmall);
  EXPECT_TRUE(net.ok()) << net.status().ToString();
  return std::move(net).value();
}

at::Tensor Forward(NetworkSpec& net, const at::Tensor& x) {
  c10::InferenceMode guard;
  return net.module.forward({x}).toTensor().contiguous();
}

TEST(Unet1dTest, IsRegistered) {
  const auto names = RegisteredArchitectures();
  EXPECT_NE(std::find(names.begin(), names.end(), "unet1d"), names.end());
}

TEST(Unet1dTest, OutputHasInputShape) {
  NetworkSpec net = BuildSmall();
  torch::manual_seed(1);
  for (int64_t length : {16, 256, 1024}) {
    at::Tensor y = Forward(net, torch::randn({3, 1, length}));
    EXPECT_EQ(y.sizes(), at::IntArrayRef({3, 1, length}));
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  }
}

TEST(Unet1dTest, BatchedEqualsUnbatched) {
  NetworkSpec net = BuildSmall();
  torch::manual_seed(2);
  at::Tensor x = torch::randn({4, 1, 1024});
  at::Tensor batched = Forward(net, x);
  for (int64_t i = 0; i < 4; ++i) {
    at::Tensor single = Forward(net, x.slice(0, i, i + 1));
    EXPECT_TRUE(torch::allclose(batched.slice(0, i, i + 1), single, 1e-4, 1e-5)) << i;
  }
}

TEST(Unet1dTest, StateDictNamesAndShapesAreStable) {
  Unet1dConfig config;  // the original's widths
  const auto params = Unet1dParams(config);
  // 4 encoder + 1 bottleneck + 4 decoder blocks of 2 x 5 tensors, 7 attention, 8 upconv, 2 head.
  ASSERT_EQ(params.size(), 9u * 10u + 7u + 8u + 2u);
  EXPECT_EQ(params.front().hub_name, "encoders.0.0.conv.weight");
  EXPECT_EQ(params.front().shape, (std::vector<int64_t>{64, 1, 3}));
  EXPECT_EQ(params[5].hub_name, "encoders.0.1.conv.weight");
  EXPECT_EQ(params[8].hub_name, "encoders.0.1.bn.running_mean");
  EXPECT_EQ(params[40].hub_name, "bottleneck.0.conv.weight");
  EXPECT_EQ(params[40].shape, (std::vector<int64_t>{1024, 512, 3}));
  EXPECT_EQ(params[50].hub_name, "attention.query.weight");
  EXPECT_EQ(params[50].shape, (std::vector<int64_t>{128, 1024, 1}));
  EXPECT_EQ(params[56].hub_name, "attention.gamma");
  EXPECT_EQ(params[57].hub_name, "upconvs.0.weight");
  EXPECT_EQ(params[57].shape, (std::vector<int64_t>{1024, 512, 2}));
  EXPECT_EQ(params[65].hub_name, "decoders.0.0.conv.weight");
  EXPECT_EQ(params[65].shape, (std::vector<int64_t>{512, 1024, 3}));
  EXPECT_EQ(params.back().hub_name, "head.bias");
  EXPECT_EQ(params[params.size() - 2].shape, (std::vector<int64_t>{1, 64, 1}));
}

TEST(Unet1dTest, FreshStatisticsAreIdentity) {
  NetworkSpec net = BuildSmall();
  EXPECT_TRUE(GetParameter(net, "encoders.0.0.bn.running_var").eq(1).all().item<bool>());
  EXPECT_TRUE(GetParameter(net, "decoders.3.1.bn.running_mean").eq(0).all().item<bool>());
  EXPECT_TRUE(IsUnet1dStatistic("bottleneck.1.bn.running_var"));
  EXPECT_FALSE(IsUnet1dStatistic("bottleneck.1.bn.weight"));
}

TEST(Unet1dTest, TrainModeUpdatesStatisticsAndPropagatesGradients) {
  NetworkSpec net = BuildSmall();
  for (const auto& p : net.params) {
    if (!IsUnet1dStatistic(p.hub_name)) GetParameter(net, p.hub_name).requires_grad_(true);
  }
  torch::manual_seed(3);
  at::Tensor y =
      net.module.get_method(kUnet1dTrainMethod)({torch::randn({2, 1, 64}) * 3 + 1}).toTensor();
  y.sum().backward();
  EXPECT_FALSE(GetParameter(net, "encoders.0.0.bn.running_mean").eq(0).all().item<bool>());
  at::Tensor grad = GetParameter(net, "encoders.0.0.conv.weight").grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_GT(grad.abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(GetParameter(net, "attention.gamma").grad().defined());
}

TEST(Unet1dTest, CheckInputRejectsBadShapes) {
  NetworkSpec net = BuildSmall();
  ASSERT_TRUE(net.check_input);
  EXPECT_TRUE(net.check_input({2, 1, 1024}).ok());
  EXPECT_EQ(net.check_input({2, 1, 1000}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(net.check_input({2, 1, 8}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(net.check_input({2, 2, 1024}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(net.check_input({2, 1024}).code(), StatusCode::kInvalidArgument);
}

TEST(Unet1dTest, RejectsBadArchParams) {
  EXPECT_EQ(BuildNetwork("unet1d", {{"base_width", 0}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildNetwork("unet1d", {{"base_width", "wide"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildNetwork("unet1d", {{"in_channels", -1}}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(Unet1dTest, SafetensorsRoundTrip) {
  NetworkSpec a = BuildSmall();
  RandomInit(&a, 7);
  const auto path = std::filesystem::temp_directory_path() / "seghub_unet1d_test.safetensors";
  ASSERT_TRUE(SaveSafetensorsWeights(a, path).ok());
  NetworkSpec b = BuildSmall();
  ASSERT_TRUE(LoadSafetensorsWeights(&b, path).ok());
  for (const auto& p : a.params) {
    EXPECT_TRUE(torch::equal(GetParameter(a, p.hub_name), GetParameter(b, p.hub_name)))
        << p.hub_name;
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace seghub::models
