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

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "hub/event_bus.h"
#include "hub/export_service.h"
#include "hub/image_service.h"
#include "hub/job_queue.h"
#include "hub/job_runner.h"
#include "hub/project_service.h"
#include "hub/redis_event_relay.h"
#include "hub/redis_job_queue.h"
#include "hub/sql_job_queue.h"
#include "hub/tokens.h"
#include "hub/users.h"
#include "metrics/metrics.h"
#include "pipeline/segment_service.h"
#include "storage/blob_store.h"
#include "storage/database.h"
#include "storage/redis_client.h"

namespace seghub::hub {

struct HubOptions {
  std::filesystem::path data_dir = "./data";
  std::string db_url;  // empty: sqlite:<data_dir>/seghub.db
  // empty: the queue lives in the database and this process runs the jobs. "redis://…": jobs are
  // delivered over Redis Streams to `seghub worker` processes, and live events are relayed
  // between processes over Redis pub/sub.
  std::string queue_url;
  // Run jobs in this process. Default: only without queue_url (workers run them otherwise).
  std::optional<bool> run_jobs;
  int db_pool_size = 25;
  imaging::DecodeLimits limits;
  std::string worker_id;   // empty: host name + pid
  int max_in_flight = 16;  // images the runner has in the segmenter at once
  std::chrono::milliseconds lease{30000};
  // With queue_url: a delivered job unacknowledged this long (its worker died) is taken over.
  std::chrono::milliseconds reclaim_idle{60000};
  const Clock* clock = nullptr;
  // Optional: gauges seghub_hub_jobs{status}, seghub_hub_queue_depth and
  // seghub_hub_runner_in_flight, refreshed every 2 s. Must outlive the Hub.
  metrics::Registry* registry = nullptr;
  // Where the job runner reads image bytes; null: this Hub's own blob store. A `seghub worker`
  // passes an HttpBlobSource (the API's store over signed URLs). Must outlive the Hub.
  const storage::BlobSource* job_blobs = nullptr;
};

struct SegmentSubmission {
  std::vector<std::string> image_ids;  // empty: every image of the project not done yet
  std::string model;                   // empty: the segmenter's default
  std::optional<double> threshold;
  bool detect_holes = true;
  std::optional<double> scale;  // pipeline::SegmentRequest::scale; empty: the model decides
  int priority = 0;             // 0..10
  bool force = false;           // also images already done (or already queued)
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
  // The last background ping's error ("" when the database answered). Cheap: safe on io threads.
  std::string dependency_error() const;

  UserService& users() { return *users_; }
  ProjectService& projects() { return *projects_; }
  ImageService& images() { return *images_; }
  ExportService& exports() { return *exports_; }
  EventBus& events() { return events_; }
  JobQueue& queue() { return *queue_; }
  storage::Database& db() { return *db_; }
  storage::BlobStore& blobs() { return *blobs_; }
  // Null when this process does not run jobs.
  JobRunner* runner() { return runner_.get(); }
  pipeline::SegmentService& segmenter() { return *segmenter_; }

 private:
  Hub() = default;
  Status Init(HubOptions options, pipeline::SegmentService* segmenter);
  Status InitQueue();

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
  std::unique_ptr<SqlJobQueue> sql_queue_;
  std::unique_ptr<storage::RedisClient> redis_;  // with queue_url
  std::unique_ptr<RedisJobQueue> redis_queue_;   // with queue_url
  std::unique_ptr<RedisEventRelay> relay_;       // with queue_url
  JobQueue* queue_ = nullptr;                    // sql_queue_ or redis_queue_
  std::unique_ptr<JobRunner> runner_;            // null when workers run the jobs
  std::unique_ptr<ExportService> exports_;

  // Pings the database every 2 s so readiness never blocks on a dead server.
  void MonitorLoop();
  void RefreshMetrics();
  metrics::Family<metrics::Gauge>* jobs_gauge_ = nullptr;
  metrics::Gauge* depth_gauge_ = nullptr;
  metrics::Gauge* in_flight_gauge_ = nullptr;
  mutable std::mutex monitor_mu_;
  std::condition_variable monitor_cv_;
  bool monitor_stop_ = false;     // guarded by monitor_mu_
  std::string dependency_error_;  // guarded by monitor_mu_
  std::thread monitor_;
};

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_HUB_H_
