// `seghub eval IMAGES LABELS`: segmentation accuracy against ground-truth instance labels
// (foreground Dice/IoU, AP at IoU 0.5/0.75/0.9, AJI; see imaging/evaluation.h), per image and
// overall, as a table or JSON. Predictions come from a model run in-process, or from label images
// in --pred (for example the *.labels.png that `seghub segment --format labels` writes).
// Exit codes: 0 all images evaluated, 1 some failed, 2 usage errors.
#ifndef SEGHUB_TOOLS_EVAL_COMMAND_H_
#define SEGHUB_TOOLS_EVAL_COMMAND_H_

#include <CLI/CLI.hpp>

namespace seghub::tools {

void AddEvalCommand(CLI::App& app);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_EVAL_COMMAND_H_
