#include "tools/segment_runner.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "tools/file_walk.h"

namespace seghub::tools {
namespace {

// Finished images handed from pool threads to the caller's thread.
class CompletionQueue {
 public:
  void Push(size_t index, Result<pipeline::SegmentResult> result) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_.emplace_back(index, std::move(result));
    }
    cv_.notify_one();
  }
  std::pair<size_t, Result<pipeline::SegmentResult>> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !done_.empty(); });
    auto item = std::move(done_.front());
    done_.pop_front();
    return item;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<size_t, Result<pipeline::SegmentResult>>> done_;
};

}  // namespace

void SegmentFilesBounded(pipeline::SegmentService* service, const std::vector<std::string>& files,
                         const std::vector<size_t>& indices,
                         const pipeline::SegmentRequest& request, int max_inflight,
                         const ImageDoneCallback& on_done) {
  // Shared so that a callback still running after an early return cannot touch a dead queue.
  auto queue = std::make_shared<CompletionQueue>();
  max_inflight = std::max(1, max_inflight);
  size_t next = 0;
  int inflight = 0;
  while (next < indices.size() || inflight > 0) {
    while (next < indices.size() && inflight < max_inflight) {
      const size_t index = indices[next++];
      Result<std::string> bytes = ReadFileBytes(files[index]);
      if (!bytes.ok()) {
        on_done(index, bytes.status());
        continue;
      }
      Status submitted = service->Segment(
          std::move(bytes).value(), request,
          [queue, index](Result<pipeline::SegmentResult> r) { queue->Push(index, std::move(r)); });
      if (!submitted.ok()) {
        on_done(index, submitted);
        continue;
      }
      ++inflight;
    }
    if (inflight == 0) continue;
    auto [index, result] = queue->Pop();
    --inflight;
    on_done(index, std::move(result));
  }
}

Result<std::unique_ptr<LocalSegmenter>> StartSegmenter(const std::string& models_dir,
                                                       const std::string& model, int threads) {
  auto s = std::make_unique<LocalSegmenter>();
  s->threads = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  LocalEngineOptions eo;
  eo.models_dir = models_dir;
  eo.threads = threads;
  SEGHUB_ASSIGN_OR_RETURN(s->local, StartLocalEngine(eo));
  pipeline::SegmentServiceOptions so;
  so.threads = s->threads;
  so.registry = &s->local->registry;
  s->service = std::make_unique<pipeline::SegmentService>(s->local->engine.get(), so);
  SEGHUB_ASSIGN_OR_RETURN(engine::ModelStatus status, s->service->ResolveModel(model));
  s->model = status.config.name;
  SEGHUB_RETURN_IF_ERROR(s->local->engine->LoadModel(s->model));
  return s;
}

void AddScaleOption(CLI::App* cmd, double* scale) {
  cmd->add_option("--scale", *scale,
                  "Resize images by this factor before the model (default: the model's "
                  "input.object_diameter decides per image, or 1)")
      ->check(CLI::Range(1e-3, pipeline::kMaxScale));
}

}  // namespace seghub::tools
