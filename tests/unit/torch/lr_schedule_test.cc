#include "models/lr_schedule.h"

#include <gtest/gtest.h>
#include <torch/optim/adam.h>
#include <torch/types.h>

namespace seghub::models {
namespace {

TEST(LrScheduleTest, ParsesKnownNamesAndRejectsOthers) {
  EXPECT_EQ(*ParseLrSchedule("constant"), LrSchedule::kConstant);
  EXPECT_EQ(*ParseLrSchedule("cosine"), LrSchedule::kCosine);
  const auto bad = ParseLrSchedule("linear");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("linear"), std::string::npos);
}

TEST(LrScheduleTest, ConstantIgnoresTheEpoch) {
  for (int e : {1, 7, 50, 500})
    EXPECT_EQ(LearningRateAt(LrSchedule::kConstant, 1e-3, 0, e, 50), 1e-3);
}

TEST(LrScheduleTest, CosineRunsFromBaseToMinMonotonically) {
  const double base = 1e-3, min = 1e-5;
  EXPECT_DOUBLE_EQ(LearningRateAt(LrSchedule::kCosine, base, min, 1, 11), base);
  EXPECT_DOUBLE_EQ(LearningRateAt(LrSchedule::kCosine, base, min, 6, 11), 0.5 * (base + min));
  EXPECT_DOUBLE_EQ(LearningRateAt(LrSchedule::kCosine, base, min, 11, 11), min);
  EXPECT_DOUBLE_EQ(LearningRateAt(LrSchedule::kCosine, base, min, 40, 11), min);  // past the end
  double previous = base;
  for (int e = 2; e <= 11; ++e) {
    const double lr = LearningRateAt(LrSchedule::kCosine, base, min, e, 11);
    EXPECT_LT(lr, previous) << "epoch " << e;
    previous = lr;
  }
  // A one-epoch run has nowhere to decay to.
  EXPECT_EQ(LearningRateAt(LrSchedule::kCosine, base, min, 1, 1), base);
}

TEST(LrScheduleTest, SetLearningRateChangesTheStepSize) {
  // One Adam step moves each weight by ~lr (Adam normalises the gradient), so the step shows the
  // rate that was set rather than the one the optimizer was built with.
  at::Tensor w = torch::zeros({4}, torch::requires_grad());
  torch::optim::Adam adam({w}, torch::optim::AdamOptions(1e-1));
  SetLearningRate(&adam, 1e-3);
  (w * torch::ones({4})).sum().backward();
  adam.step();
  EXPECT_NEAR(w.detach().abs().max().item<double>(), 1e-3, 1e-5);
  EXPECT_DOUBLE_EQ(static_cast<torch::optim::AdamOptions&>(adam.param_groups()[0].options()).lr(),
                   1e-3);
}

}  // namespace
}  // namespace seghub::models
