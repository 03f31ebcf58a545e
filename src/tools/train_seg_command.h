// `seghub train --task segmentation ...`: the segmentation half of the train subcommand
// (train_command.cc owns the subcommand and the options shared with --task pd: --out, --resume,
// --epochs, --steps, --batch, --lr, --time-budget, --threads, --evaluate). Trains any
// BuildNetwork architecture with models/seg_training.h, or with --evaluate measures foreground
// Dice of saved weights on held-out data.
#ifndef SEGHUB_TOOLS_TRAIN_SEG_COMMAND_H_
#define SEGHUB_TOOLS_TRAIN_SEG_COMMAND_H_

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

namespace seghub::tools {

struct SegCliArgs;

// Registers the segmentation-only options on `cmd`; the result is read by RunSegmentation.
std::shared_ptr<SegCliArgs> AddSegmentationTrainOptions(CLI::App* cmd);

// Runs training or evaluation; reads the shared options from `cmd` by name (their defaults are
// the PD trainer's, so only values the user gave are taken). Returns the process exit code.
int RunSegmentation(const CLI::App& cmd, const SegCliArgs& args);

// --init-weights (shared with PD training, which fine-tunes from it); empty when not given.
const std::string& InitWeights(const SegCliArgs& args);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_TRAIN_SEG_COMMAND_H_
