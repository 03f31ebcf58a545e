// The `seghub` executable: one subcommand per file; this only wires them up.
#include <CLI/CLI.hpp>

#include "common/logging.h"
#include "tools/bench_command.h"
#include "tools/bench_segment_command.h"
#include "tools/eval_command.h"
#include "tools/pd_command.h"
#include "tools/segment_command.h"
#include "tools/serve_command.h"
#include "tools/version_command.h"
#include "tools/worker_command.h"
#if defined(SEGHUB_WITH_TORCH) && SEGHUB_WITH_TORCH
#include "tools/train_command.h"
#endif

int main(int argc, char** argv) {
  seghub::InitLogging("info");  // stderr from the start; subcommands set their own level
  CLI::App app{"seghub: cell segmentation inference server"};
  app.require_subcommand(1);
  seghub::tools::AddServeCommand(app);
  seghub::tools::AddWorkerCommand(app);
  seghub::tools::AddVersionCommand(app);
  seghub::tools::AddBenchCommand(app);
  seghub::tools::AddTuneCommand(app);
  seghub::tools::AddBenchSegmentCommand(app);
  seghub::tools::AddPdCommand(app);
  seghub::tools::AddSegmentCommand(app);
  seghub::tools::AddEvalCommand(app);
#if defined(SEGHUB_WITH_TORCH) && SEGHUB_WITH_TORCH
  seghub::tools::AddTrainCommand(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a subcommand's own failure code (1 for most)
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints the message or the help text
    // Usage errors exit 2, as getopt-style tools do, rather than CLI11's codes from 100 up.
    return rc == 0 ? 0 : 2;
  }
  return 0;
}
