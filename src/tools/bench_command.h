// `seghub bench`: raw backend throughput against engine throughput under concurrent clients, and
// `seghub tune`: measure and store the fastest batch size / instance layout for models.
#ifndef SEGHUB_TOOLS_BENCH_COMMAND_H_
#define SEGHUB_TOOLS_BENCH_COMMAND_H_

#include <CLI/CLI.hpp>

namespace seghub::tools {

void AddBenchCommand(CLI::App& app);
void AddTuneCommand(CLI::App& app);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_BENCH_COMMAND_H_
