// Learning-rate schedules shared by the trainers (PD and 2-D segmentation).
//
// A constant Adam rate keeps the weights bouncing between epochs (validation F1 of the PD model
// moved by ±0.1 from one epoch to the next); decaying it towards the end of a run lets the last
// epochs settle. The rate is a pure function of the epoch, so a resumed run continues the same
// curve without saving any scheduler state.
#ifndef SEGHUB_MODELS_LR_SCHEDULE_H_
#define SEGHUB_MODELS_LR_SCHEDULE_H_

#include <string>

#include "common/status.h"

namespace torch::optim {
class Optimizer;
}

namespace seghub::models {

enum class LrSchedule {
  kConstant,  // `base` every epoch
  kCosine,    // base at epoch 1, half a cosine down to `min` at the last epoch
};

// "constant" or "cosine"; anything else is kInvalidArgument.
Result<LrSchedule> ParseLrSchedule(const std::string& name);

// The rate for `epoch` (1-based) of a run of `epochs`. Epochs past the end keep `min`.
// Pure; any thread.
double LearningRateAt(LrSchedule schedule, double base, double min, int epoch, int epochs);

// Sets every parameter group of `optimizer` (Adam) to `lr`. Caller owns the optimizer and calls
// from the thread that steps it.
void SetLearningRate(torch::optim::Optimizer* optimizer, double lr);

}  // namespace seghub::models

#endif  // SEGHUB_MODELS_LR_SCHEDULE_H_
