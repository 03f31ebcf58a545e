// `seghub worker`: runs segmentation jobs from the distributed queue (Redis Streams over the
// PostgreSQL job table) on this machine's engine, reading image bytes from the API servers over
// signed URLs. It has no public API: it serves /health, /ready, /startup and /metrics on --port.
#ifndef SEGHUB_TOOLS_WORKER_COMMAND_H_
#define SEGHUB_TOOLS_WORKER_COMMAND_H_

#include <CLI/CLI.hpp>

namespace seghub::tools {

void AddWorkerCommand(CLI::App& app);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_WORKER_COMMAND_H_
