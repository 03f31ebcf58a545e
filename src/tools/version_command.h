// `seghub version`: version, build type and compiled-in backends.
#ifndef SEGHUB_TOOLS_VERSION_COMMAND_H_
#define SEGHUB_TOOLS_VERSION_COMMAND_H_

#include <CLI/CLI.hpp>

namespace seghub::tools {

// Adds the subcommand to `app`; main thread only, before parsing.
void AddVersionCommand(CLI::App& app);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_VERSION_COMMAND_H_
