// SIGINT/SIGTERM handling shared by the long-running subcommands (`serve`, `worker`).
#ifndef SEGHUB_TOOLS_SHUTDOWN_SIGNALS_H_
#define SEGHUB_TOOLS_SHUTDOWN_SIGNALS_H_

#include <signal.h>

#include <string>

namespace seghub::tools {

// Blocks SIGINT/SIGTERM in the calling thread; threads started afterwards inherit the mask, so
// the signal is only ever taken by WaitForShutdownSignal(), outside any async-signal context.
// Call first thing on the main thread.
sigset_t BlockShutdownSignals();

// Waits for one of the blocked signals and returns its name ("Terminated", ...).
std::string WaitForShutdownSignal(const sigset_t& signals);

// "[::1]" for IPv6 literals, the host otherwise (for printed URLs).
std::string UrlHost(const std::string& host);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_SHUTDOWN_SIGNALS_H_
