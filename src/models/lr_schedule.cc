#include "models/lr_schedule.h"

#include <torch/optim/adam.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace seghub::models {

Result<LrSchedule> ParseLrSchedule(const std::string& name) {
  if (name == "constant") return LrSchedule::kConstant;
  if (name == "cosine") return LrSchedule::kCosine;
  return InvalidArgument("unknown learning-rate schedule '" + name +
                         "' (expected constant or cosine)");
}

double LearningRateAt(LrSchedule schedule, double base, double min, int epoch, int epochs) {
  if (schedule == LrSchedule::kConstant) return base;
  if (epochs <= 1) return base;
  const double t = std::clamp(static_cast<double>(epoch - 1) / (epochs - 1), 0.0, 1.0);
  return min + 0.5 * (base - min) * (1.0 + std::cos(std::numbers::pi * t));
}

void SetLearningRate(torch::optim::Optimizer* optimizer, double lr) {
  for (auto& group : optimizer->param_groups()) {
    // Only Adam is used by the trainers; other optimizers keep their own options type.
    if (auto* adam = dynamic_cast<torch::optim::AdamOptions*>(&group.options())) adam->lr(lr);
  }
}

}  // namespace seghub::models
