// `seghub serve`: the inference engine behind the HTTP API, until SIGINT or SIGTERM.
#ifndef SEGHUB_TOOLS_SERVE_COMMAND_H_
#define SEGHUB_TOOLS_SERVE_COMMAND_H_

#include <CLI/CLI.hpp>

namespace seghub::tools {

// Adds the subcommand to `app`; main thread only, before parsing. The subcommand's callback
// blocks until a signal arrives; its failures surface as CLI::RuntimeError with the exit code.
void AddServeCommand(CLI::App& app);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_SERVE_COMMAND_H_
