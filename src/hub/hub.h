// Hub: the Hub service in one object — storage, users, projects, images, the durable job queue
// and its runner, exports and live events — built from a data folder and a database URL.
//
// The embedded default is SQLite and a blob folder under `data_dir` with the queue in the same
// database; `db_url` selects PostgreSQL instead. Open() migrates the schema, recovers work a
// crashed process left behind, and starts the runner.
//
// Threading: every method is thread-safe and may block on the database: call them from worker
// threads, never from HTTP io threads. Ownership: the caller owns the Hub; `segmenter` (and the
// engine behind it) must outlive it. Destroy the Hub (or Stop()) before the segmenter.
#ifndef SEGHUB_HUB_HUB_H_
#define SEGHUB_HUB_HUB_H_

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "hub/event_bus.h"
#include "hub/export_service.h"
#include "hub/image_service.h"
#include "hub/job_queue.h"
#include "hub/job_runner.h"
#include "hub/project_service.h"
#include "hub/tokens.h"
#include "hub/users.h"
#include "pipeline/segment_service.h"
#include "storage/blob_store.h"
#include "storage/database.h"

namespace seghub::hub {

struct HubOptions {
  std::filesystem::path data_dir = "./data";
  std::string db_url;  // empty: sqlite:<data_dir>/seghub.db
  int db_pool_size = 25;
  imaging::DecodeLimits limits;
  std::string worker_id;   // empty: host name + pid
  int max_in_flight = 16;  // images the runner has in the segmenter at once
  std::chrono::milliseconds lease{30000};
  const Clock* clock = nullptr;
};

struct SegmentSubmission {
  std::vector<std::string> image_ids;  // empty: every image of the project not done yet
  std::string model;                   // empty: the segmenter's default
  std::optional<double> threshold;
  bool detect_holes = true;
  int priority = 0;    // 0..10
  bool force = false;  // also images already done (or already queued)
};

struct SubmitResult {
  std::string batch_id;
  int64_t queued = 0;
  int64_t skipped = 0;
};

class Hub {
 public:
  static Result<std::unique_ptr<Hub>> Open(HubOptions options, pipeline::SegmentService* segmenter);
  ~Hub();  // Stop()

  // Stops the runner (running jobs stay `processing` and are recovered at the next start).
  void Stop();

  // Editor role. Enqueues in one transaction and wakes the runner.
  Result<SubmitResult> Submit(const std::string& user_id, const std::string& project_id,
                              const SegmentSubmission& request);
  Result<int64_t> CancelProject(const std::string& user_id, const std::string& project_id);
  Result<JobInfo> GetJob(const std::string& user_id, const std::string& job_id);
  Result<int64_t> CancelJob(const std::string& user_id, const std::string& job_id);
  Result<QueueCounts> ProjectQueue(const std::string& user_id, const std::string& project_id);
  // Readiness: the database answers.
  Status Ping();

  UserService& users() { return *users_; }
  ProjectService& projects() { return *projects_; }
  ImageService& images() { return *images_; }
  ExportService& exports() { return *exports_; }
  EventBus& events() { return events_; }
  JobQueue& queue() { return *queue_; }
  storage::Database& db() { return *db_; }
  pipeline::SegmentService& segmenter() { return *segmenter_; }

 private:
  Hub() = default;
  Status Init(HubOptions options, pipeline::SegmentService* segmenter);

  HubOptions options_;
  const Clock* clock_ = nullptr;
  pipeline::SegmentService* segmenter_ = nullptr;
  EventBus events_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<TokenSigner> signer_;
  std::unique_ptr<UserService> users_;
  std::unique_ptr<ProjectService> projects_;
  std::unique_ptr<ImageService> images_;
  std::unique_ptr<JobQueue> queue_;
  std::unique_ptr<JobRunner> runner_;
  std::unique_ptr<ExportService> exports_;
};

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_HUB_H_
