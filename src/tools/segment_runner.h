// Bounded batch submission for the CLI: runs many image files through a SegmentService with at
// most `max_inflight` of them read, queued or in progress at any time, so a folder of 10,000
// images never sits in memory while the engine still sees enough images to fill its batches.
// Files are read on the calling thread just before submission; results come back to the calling
// thread (in completion order), where the caller writes outputs without any locking.
#ifndef SEGHUB_TOOLS_SEGMENT_RUNNER_H_
#define SEGHUB_TOOLS_SEGMENT_RUNNER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "pipeline/segment_service.h"
#include "tools/engine_setup.h"

namespace CLI {
class App;
}

namespace seghub::tools {

using ImageDoneCallback = std::function<void(size_t index, Result<pipeline::SegmentResult>)>;

// Segments files[i] for every i in `indices` with `request`; calls `on_done` exactly once per
// index on the calling thread. Unreadable files and rejected submissions arrive there as errors.
void SegmentFilesBounded(pipeline::SegmentService* service, const std::vector<std::string>& files,
                         const std::vector<size_t>& indices,
                         const pipeline::SegmentRequest& request, int max_inflight,
                         const ImageDoneCallback& on_done);

// An in-process engine plus a segmentation service over it, for one-shot commands.
struct LocalSegmenter {
  std::unique_ptr<LocalEngine> local;
  std::unique_ptr<pipeline::SegmentService> service;
  std::string model;  // resolved name
  int threads = 1;    // effective pool/engine threads
  ~LocalSegmenter() {
    if (service) service->Shutdown();
  }
};

// Starts the engine on `models_dir`, loads `model` (empty: the service default) and checks it is
// a segmentation model. kNotFound / kInvalidArgument mean the user named something wrong.
Result<std::unique_ptr<LocalSegmenter>> StartSegmenter(const std::string& models_dir,
                                                       const std::string& model, int threads);

// Adds `--scale F` (SegmentRequest::scale, 0 < F <= 16) to `cmd`; *scale stays 0 unless given.
void AddScaleOption(CLI::App* cmd, double* scale);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_SEGMENT_RUNNER_H_
