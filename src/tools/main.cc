// The `seghub` executable: one subcommand per file; this only wires them up.
#include <CLI/CLI.hpp>

#include "tools/bench_command.h"
#include "tools/serve_command.h"
#include "tools/version_command.h"

int main(int argc, char** argv) {
  CLI::App app{"seghub: cell segmentation inference server"};
  app.require_subcommand(1);
  seghub::tools::AddServeCommand(app);
  seghub::tools::AddVersionCommand(app);
  seghub::tools::AddBenchCommand(app);
  seghub::tools::AddTuneCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
