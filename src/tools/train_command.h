// `seghub train --task pd ...`: trains the PD network on synthetic signals (models/pd_training.h)
// or, with --evaluate, measures region F1 of saved weights on held-out synthetic signals.
#ifndef SEGHUB_TOOLS_TRAIN_COMMAND_H_
#define SEGHUB_TOOLS_TRAIN_COMMAND_H_

#include <CLI/CLI.hpp>

namespace seghub::tools {

void AddTrainCommand(CLI::App& app);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_TRAIN_COMMAND_H_
