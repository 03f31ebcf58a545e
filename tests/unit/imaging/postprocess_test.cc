#include "imaging/postprocess.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace seghub::imaging {
namespace {

TEST(PostprocessTest, SigmoidOnlyWhenValuesLeaveUnitRange) {
  EXPECT_FALSE(NeedsSigmoid(std::vector<float>{0.0f, 0.5f, 1.0f}));
  EXPECT_TRUE(NeedsSigmoid(std::vector<float>{0.2f, -0.01f}));
  EXPECT_TRUE(NeedsSigmoid(std::vector<float>{1.5f}));
}

TEST(PostprocessTest, ProbabilityMapAppliesSigmoidAndResizesBilinearly) {
  const std::vector<float> logits = {0.0f, 2.0f, -2.0f, 0.0f};
  const auto same = ProbabilityMap(logits, 2, 2, true, {2, 2});
  ASSERT_TRUE(same.ok());
  EXPECT_FLOAT_EQ(same->at<float>(0, 0), 0.5f);
  EXPECT_NEAR(same->at<float>(0, 1), 1.0 / (1.0 + std::exp(-2.0)), 1e-6);

  const std::vector<float> ramp = {0.0f, 1.0f};
  const auto wide = ProbabilityMap(ramp, 1, 2, false, {4, 1});
  ASSERT_TRUE(wide.ok());
  // INTER_LINEAR with half-pixel centres: 0, 0.25, 0.75, 1.
  EXPECT_FLOAT_EQ(wide->at<float>(0, 1), 0.25f);
  EXPECT_FLOAT_EQ(wide->at<float>(0, 2), 0.75f);
}

TEST(PostprocessTest, RejectsWrongPlaneSize) {
  EXPECT_FALSE(ProbabilityMap(std::vector<float>(5), 2, 2, true, {2, 2}).ok());
  EXPECT_FALSE(ProbabilityMap(std::vector<float>(4), 2, 2, true, {0, 2}).ok());
}

}  // namespace
}  // namespace seghub::imaging
