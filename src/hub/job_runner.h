// JobRunner: the worker side of the job queue in one Hub process. It claims jobs, answers from
// the result cache or runs them through the SegmentService, commits each result exactly once
// (JobQueue::Complete), and publishes progress on the EventBus.
//
// Threads: one runner thread claims (while fewer than max_in_flight jobs are in flight), checks
// the cache, reads the image bytes and hands them to SegmentService::Segment; on the same thread
// a timer renews the leases every lease/3 (cancelling the work of jobs whose claim was lost),
// requeues other workers' abandoned jobs every lease/2 and publishes throttled queue stats.
// Segmentation results arrive on a SegmentService pool thread, which writes them (Complete or
// Fail) and publishes the job's events there.
//
// Events (as the original Hub sends them; user_id = the job's user, project_id = its project):
//   segmentation-update {imageId, projectId, status, queueId, error?}: processing, done,
//       failed, cancelled, and queued again after a retryable failure;
//   notification {type: "segmentation-complete", imageId, projectId, polygonCount}: done;
//   queueStats {projectId, queued, processing, total = queued + processing}: after changes, at
//       most one per project per 250 ms; the last change is always sent (so a drained queue
//       always ends with queued = processing = 0).
//
// Ownership: every pointer is borrowed and must outlive the runner (Stop() returns only when no
// callback of the runner can run any more).
#ifndef SEGHUB_HUB_JOB_RUNNER_H_
#define SEGHUB_HUB_JOB_RUNNER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "engine/engine.h"
#include "hub/event_bus.h"
#include "hub/job_queue.h"
#include "pipeline/segment_service.h"
#include "storage/blob_source.h"
#include "storage/blob_store.h"  // Sha256Hex (ResultCacheKey); BlobStore is a BlobSource
#include "storage/database.h"

namespace seghub::hub {

struct JobRunnerOptions {
  std::string worker_id;  // empty: "worker-" + a random suffix
  int max_in_flight = 8;
  std::chrono::milliseconds lease{30000};
  std::chrono::milliseconds poll_interval{200};
  // Embedded mode (this process is the only worker): RecoverAbandoned(true) at Start.
  bool exclusive = true;
  std::chrono::milliseconds stats_interval{250};  // queueStats throttle per project
};

// Counters since construction, for tests and diagnostics.
struct JobRunnerStats {
  int64_t claimed = 0;
  int64_t segmented = 0;   // jobs handed to the SegmentService
  int64_t cache_hits = 0;  // jobs answered from result_cache (no inference)
  int64_t done = 0;
  int64_t failed = 0;  // Fail calls (retryable or not)
  int64_t lost = 0;    // claims lost (cancelled elsewhere or reclaimed)
};

// The result cache key: Sha256Hex(blob_key + "|" + model + "|" + params.dump()); nlohmann
// dumps object keys sorted, so equal params give equal keys. Any thread.
std::string ResultCacheKey(const std::string& blob_key, const std::string& model,
                           const nlohmann::json& params);
// The SegmentRequest fields a job's params set (threshold, detect_holes, min_area, um_per_px,
// scale).
pipeline::SegmentRequest SegmentRequestFromParams(const nlohmann::json& params);

class JobRunner {
 public:
  JobRunner(JobQueue* queue, storage::Database* db, const storage::BlobSource* blobs,
            pipeline::SegmentService* segmenter, EventBus* events, const Clock* clock,
            JobRunnerOptions options);
  ~JobRunner();  // Stop()
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Recovers abandoned jobs (exclusive mode) and starts the runner thread. kFailedPrecondition
  // when already started. Call once, from the owning thread.
  Status Start();
  // Stops claiming, cancels the in-flight segmentations and waits for their callbacks. Jobs
  // whose result was not committed stay `processing` and are recovered (RecoverAbandoned: at the
  // next exclusive Start, or by another worker once the lease expires): no job is lost. Results
  // that were already computed are still committed. Idempotent; the owning thread.
  void Stop();
  // A batch was enqueued: claim now instead of at the next poll. Any thread.
  void Wake();
  // For jobs just cancelled in the queue (JobQueue::Cancel / CancelProject's result): cancels
  // the local work of those running here, and publishes segmentation-update "cancelled" for
  // each (status re-read from the queue, so ids not cancelled are skipped) plus queue stats.
  // Any thread; does a queue read per id.
  void CancelLocal(const std::vector<std::string>& job_ids);
  // JobQueue::Cancel (with user_id: only that user's jobs), then CancelLocal. Returns the ids
  // cancelled. Any thread.
  Result<std::vector<std::string>> CancelJobs(const std::vector<std::string>& job_ids,
                                              const std::string& user_id);
  Result<std::vector<std::string>> CancelProject(const std::string& project_id);

  int in_flight() const;  // any thread
  JobRunnerStats stats() const;
  const std::string& worker_id() const { return options_.worker_id; }

 private:
  struct Active {
    ClaimedJob job;
    std::shared_ptr<engine::CancelToken> cancel = std::make_shared<engine::CancelToken>();
  };

  void Loop();
  bool ClaimSome();
  void Dispatch(const std::shared_ptr<Active>& active);
  void OnSegmented(const std::shared_ptr<Active>& active, Result<pipeline::SegmentResult> r);
  void CompleteJob(const ClaimedJob& job, const nlohmann::json& result, bool from_cache);
  Status WriteResult(storage::Connection& conn, const ClaimedJob& job, const nlohmann::json& result,
                     const std::string& body, bool from_cache, int64_t now) const;
  void FailJob(const ClaimedJob& job, const Status& error);
  void Finish(const std::string& job_id);
  void RenewLeases();
  void FlushStats(bool force);
  void MarkDirty(const std::string& project_id, const std::string& user_id);
  void PublishUpdate(const ClaimedJob& job, const char* status, const std::string& error);
  void PublishCancelled(const std::vector<std::string>& ids);
  std::chrono::milliseconds NextStatsDue(SteadyTime now) const;

  JobQueue* const queue_;
  storage::Database* const db_;
  const storage::BlobSource* const blobs_;
  pipeline::SegmentService* const segmenter_;
  EventBus* const events_;
  const Clock* const clock_;
  JobRunnerOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;                             // wake_, stop_ or active_ changed
  std::map<std::string, std::shared_ptr<Active>> active_;  // guarded by mu_; job id -> work
  bool wake_ = false;                                      // guarded by mu_
  bool stop_ = false;                                      // guarded by mu_
  bool started_ = false;                                   // guarded by mu_
  JobRunnerStats stats_;                                   // guarded by mu_

  mutable std::mutex stats_mu_;
  std::map<std::string, std::string> dirty_;     // guarded by stats_mu_; project -> user
  std::map<std::string, SteadyTime> last_sent_;  // guarded by stats_mu_

  std::thread thread_;  // the runner thread; started and joined by the owning thread
};

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_JOB_RUNNER_H_
