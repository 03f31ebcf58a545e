// JobQueue: the durable queue of segmentation jobs behind the Hub's "segment these images"
// button. An interface so that a Redis Streams implementation can serve many machines later;
// SqlJobQueue (sql_job_queue.h) keeps the queue in the Hub's own database.
//
// Life of a job: EnqueueBatch -> queued -> Claim -> processing (leased to one worker, with a
// random claim_token) -> Complete (done) | Fail (queued again with backoff, or failed) |
// Cancel (cancelled). A worker keeps its lease alive with RenewLease; a lease that expires
// (crashed worker) is handed back by RecoverAbandoned. Every state change of a claimed job is
// guarded by its claim_token, so a worker that lost its claim (cancelled, or reclaimed after
// expiry) gets kAborted and can never commit a stale result. The image row's status mirrors its
// latest job: queued, processing, done, failed or cancelled (error set on failure).
//
// Threading: implementations are thread-safe; every method may be called from any thread.
#ifndef SEGHUB_HUB_JOB_QUEUE_H_
#define SEGHUB_HUB_JOB_QUEUE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "storage/database.h"

namespace seghub::hub {

inline constexpr const char* kJobQueued = "queued";
inline constexpr const char* kJobProcessing = "processing";
inline constexpr const char* kJobDone = "done";
inline constexpr const char* kJobFailed = "failed";
inline constexpr const char* kJobCancelled = "cancelled";

struct JobSpec {
  std::string image_id, project_id, user_id, model;  // model empty: the server's default
  // {threshold: number|null, detect_holes: bool, min_area?: number, um_per_px?: number,
  //  scale?: number}
  nlohmann::json params = nlohmann::json::object();
  int priority = 0;  // 0..10, higher first (clamped)
};

struct ClaimedJob {
  std::string id, batch_id, image_id, project_id, user_id, model, blob_key, claim_token;
  nlohmann::json params;
  int priority = 0;
  int attempts = 0;  // failed attempts before this claim
};

struct JobInfo {
  std::string id, batch_id, image_id, project_id, user_id, model, status, error;
  int priority = 0;
  int attempts = 0;
  int64_t created_at_ms = 0, updated_at_ms = 0;  // unix milliseconds
  std::optional<int64_t> finished_at_ms;
};

struct QueueCounts {
  int64_t queued = 0, processing = 0, done = 0, failed = 0, cancelled = 0;
  int64_t total() const { return queued + processing + done + failed + cancelled; }
  int64_t active() const { return queued + processing; }
};

class JobQueue {
 public:
  virtual ~JobQueue() = default;

  // One transaction: inserts the jobs, marks the images queued. Images that already have a
  // queued or processing job (or appear twice in `jobs`) are skipped, so double clicks don't
  // duplicate work. Returns the new job ids, in `jobs` order.
  virtual Result<std::vector<std::string>> EnqueueBatch(const std::string& batch_id,
                                                        const std::vector<JobSpec>& jobs) = 0;

  // Claims up to max_jobs runnable jobs (available_at <= now) for `worker`, leased until
  // now + lease. Order: priority DESC, then the user served least recently (round robin across
  // users, updated per claimed job), then created_at. Concurrent claimers never get the same
  // job. Marks the jobs and their images processing; each claim gets a new random claim_token.
  virtual Result<std::vector<ClaimedJob>> Claim(const std::string& worker, int max_jobs,
                                                std::chrono::milliseconds lease) = 0;

  // Extends the lease to now + lease. kAborted when the job is no longer this claim's
  // (cancelled, or reclaimed after expiry): the worker then cancels its work.
  virtual Status RenewLease(const ClaimedJob& job, std::chrono::milliseconds lease) = 0;

  // In one transaction: marks the job done only if it is still processing under this claim,
  // and only then runs write_result(conn) in the same transaction (the result rows), so a job's
  // result is committed exactly once in effect. kAborted when the claim was lost;
  // write_result's error rolls everything back and is returned (the job stays processing).
  // write_result may run more than once when the database retries a transient failure, each
  // time in a fresh transaction; it must not have side effects outside `conn`.
  virtual Status Complete(const ClaimedJob& job,
                          const std::function<Status(storage::Connection&)>& write_result) = 0;

  // Retryable: attempts + 1; below max_attempts the job is queued again, runnable after a
  // backoff (1 s, 4 s, 16 s, ...), else failed. Not retryable (a bad image): failed at once.
  // The image's status and error follow. kAborted when the claim was lost.
  virtual Status Fail(const ClaimedJob& job, const Status& error, bool retryable) = 0;

  // Queued -> cancelled at once; processing -> cancelled (its worker notices on the next lease
  // renewal, or at once via JobRunner::CancelLocal). With a non-empty `user_id` only that
  // user's jobs are cancelled (callers still check project access); empty means no check.
  // Returns the ids actually cancelled.
  virtual Result<std::vector<std::string>> Cancel(const std::vector<std::string>& job_ids,
                                                  const std::string& user_id) = 0;
  Result<std::vector<std::string>> Cancel(const std::vector<std::string>& job_ids) {
    return Cancel(job_ids, "");
  }
  // Cancels every queued or processing job of the project.
  virtual Result<std::vector<std::string>> CancelProject(const std::string& project_id) = 0;

  // Requeues processing jobs whose lease expired (a crashed worker); such a lost attempt counts
  // as a failed one (a job that kills its worker every time ends up failed). With
  // all_processing (single-process embedded mode at startup: no other worker can exist) every
  // processing job is requeued without counting an attempt. Returns how many were handed back.
  virtual Result<int64_t> RecoverAbandoned(bool all_processing) = 0;

  virtual Result<JobInfo> GetJob(const std::string& job_id) = 0;  // kNotFound
  virtual Result<QueueCounts> ProjectCounts(const std::string& project_id) = 0;
  virtual Result<QueueCounts> GlobalCounts() = 0;
};

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_JOB_QUEUE_H_
