// `seghub bench-segment`: the segmentation pipeline's cost around the model, measured side by
// side in one run (issue 3, "What must be shown: Benchmark"): the raw engine's throughput on the
// exact tensors the pipeline submits, the per-image overhead (decode + preprocess, postprocess,
// JSON) against the model's compute time, and HTTP end to end against the raw engine at the same
// client count.
#ifndef SEGHUB_TOOLS_BENCH_SEGMENT_COMMAND_H_
#define SEGHUB_TOOLS_BENCH_SEGMENT_COMMAND_H_

#include <CLI/CLI.hpp>

namespace seghub::tools {

void AddBenchSegmentCommand(CLI::App& app);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_BENCH_SEGMENT_COMMAND_H_
