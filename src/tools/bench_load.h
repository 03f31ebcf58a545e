// Closed-loop load generation shared by the benchmark subcommands: N client threads, each sending
// its next request as soon as the previous one returns, for a fixed wall-clock time. Closed loop
// (rather than a fixed arrival rate) so the figure is the system's capacity at that concurrency,
// which is what the engine-vs-end-to-end ratios compare.
#ifndef SEGHUB_TOOLS_BENCH_LOAD_H_
#define SEGHUB_TOOLS_BENCH_LOAD_H_

#include <functional>
#include <vector>

#include "common/status.h"

namespace seghub::tools {

struct LoadStats {
  int clients = 0;
  int64_t completed = 0;  // requests that succeeded
  int64_t errors = 0;     // requests that failed (not counted in the rates)
  double elapsed_s = 0;
  double per_second = 0;                       // completed / elapsed_s
  double mean_ms = 0, p50_ms = 0, p99_ms = 0;  // latency of the successful requests
  Status first_error;                          // the first failure, for the report
};

// `q`-quantile (0..1) of `values` by the nearest rank; 0 when empty.
double Percentile(std::vector<double> values, double q);
double Mean(const std::vector<double>& values);

// Runs `clients` threads for `seconds`; each calls `request(client_index)` in a loop. A failing
// request is counted and followed by a short pause (so a broken setup does not spin).
// `request` must be safe to call concurrently for different client indices.
LoadStats RunClosedLoop(int clients, double seconds, const std::function<Status(int)>& request);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_BENCH_LOAD_H_
