// `seghub segment`: segments image files and folders with an in-process engine and writes the
// results as files (--out) and/or JSON lines on stdout (--json). Resumable; see segment_outputs.h.
// Exit codes: 0 all images ok, 1 some failed, 2 usage errors.
#ifndef SEGHUB_TOOLS_SEGMENT_COMMAND_H_
#define SEGHUB_TOOLS_SEGMENT_COMMAND_H_

#include <CLI/CLI.hpp>

namespace seghub::tools {

void AddSegmentCommand(CLI::App& app);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_SEGMENT_COMMAND_H_
