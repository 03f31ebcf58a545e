// `seghub pd analyze FILE...`: partial-discharge analysis on the command line, with the engine
// in-process and the same JSON as POST /api/v1/pd/analyze; `seghub pd bench`: signals per second
// on synthetic signals, all windows batched vs one window at a time (the original service).
#ifndef SEGHUB_TOOLS_PD_COMMAND_H_
#define SEGHUB_TOOLS_PD_COMMAND_H_

#include <CLI/CLI.hpp>

namespace seghub::tools {

void AddPdCommand(CLI::App& app);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_PD_COMMAND_H_
