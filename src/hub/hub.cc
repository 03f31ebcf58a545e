#include "hub/hub.h"

#include <unistd.h>

#include "common/logging.h"
#include "hub/ids.h"
#include "hub/schema.h"
#include "storage/migrations.h"

namespace seghub::hub {
namespace {

std::string DefaultWorkerId() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

}  // namespace

Result<std::unique_ptr<Hub>> Hub::Open(HubOptions options, pipeline::SegmentService* segmenter) {
  std::unique_ptr<Hub> hub(new Hub());  // private constructor: make_unique cannot reach it
  SEGHUB_RETURN_IF_ERROR(hub->Init(std::move(options), segmenter));
  return hub;
}

Status Hub::Init(HubOptions options, pipeline::SegmentService* segmenter) {
  options_ = std::move(options);
  clock_ = options_.clock ? options_.clock : SystemClock::Get();
  segmenter_ = segmenter;
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec)
    return InvalidArgument("cannot create " + options_.data_dir.string() + ": " + ec.message());
  std::string url = options_.db_url.empty() ? "sqlite:" + (options_.data_dir / "seghub.db").string()
                                            : options_.db_url;
  storage::DatabaseOptions db_options;
  db_options.pool_size = options_.db_pool_size;
  SEGHUB_ASSIGN_OR_RETURN(db_, storage::Database::Open(url, db_options));
  SEGHUB_RETURN_IF_ERROR(storage::Migrate(*db_, HubMigrations()));
  SEGHUB_ASSIGN_OR_RETURN(blobs_, storage::BlobStore::Open(options_.data_dir / "blobs"));
  SEGHUB_ASSIGN_OR_RETURN(std::string secret, LoadOrCreateSecret(options_.data_dir / "secret.key"));
  signer_ = std::make_unique<TokenSigner>(secret);
  users_ = std::make_unique<UserService>(db_.get(), signer_.get(), clock_);
  projects_ = std::make_unique<ProjectService>(db_.get(), clock_);
  ImageServiceOptions image_options;
  image_options.limits = options_.limits;
  image_options.derived_dir = options_.data_dir / "derived";
  images_ = std::make_unique<ImageService>(db_.get(), blobs_.get(), projects_.get(), clock_,
                                           image_options);
  SEGHUB_RETURN_IF_ERROR(InitQueue());
  exports_ = std::make_unique<ExportService>(db_.get(), blobs_.get(), projects_.get(), &events_,
                                             clock_, options_.data_dir / "exports");
  // Only the embedded server knows no other process can be running an export.
  if (options_.db_url.empty() && options_.queue_url.empty()) {
    SEGHUB_RETURN_IF_ERROR(exports_->RecoverInterrupted());
  }
  if (runner_) SEGHUB_RETURN_IF_ERROR(runner_->Start());
  if (options_.registry != nullptr) {
    jobs_gauge_ = &options_.registry->AddGauge("seghub_hub_jobs", "Hub jobs by status", {"status"});
    depth_gauge_ = &options_.registry
                        ->AddGauge("seghub_hub_queue_depth",
                                   "Jobs waiting to run (the worker autoscaling signal)")
                        .WithLabels({});
    in_flight_gauge_ =
        &options_.registry
             ->AddGauge("seghub_hub_runner_in_flight", "Jobs this process is running now")
             .WithLabels({});
  }
  monitor_ = std::thread([this] { MonitorLoop(); });
  SEGHUB_LOG_INFO("hub: database {}, data in {}", db_->description(), options_.data_dir.string());
  return Status::Ok();
}

void Hub::RefreshMetrics() {
  if (jobs_gauge_ == nullptr) return;
  in_flight_gauge_->Set(runner_ ? runner_->in_flight() : 0);
  Result<QueueCounts> counts = queue_->GlobalCounts();
  if (!counts.ok()) return;
  depth_gauge_->Set(static_cast<double>(counts->queued));
  jobs_gauge_->WithLabels({"queued"}).Set(static_cast<double>(counts->queued));
  jobs_gauge_->WithLabels({"processing"}).Set(static_cast<double>(counts->processing));
  jobs_gauge_->WithLabels({"done"}).Set(static_cast<double>(counts->done));
  jobs_gauge_->WithLabels({"failed"}).Set(static_cast<double>(counts->failed));
  jobs_gauge_->WithLabels({"cancelled"}).Set(static_cast<double>(counts->cancelled));
}

Status Hub::InitQueue() {
  sql_queue_ = std::make_unique<SqlJobQueue>(db_.get(), clock_, SqlJobQueueOptions{});
  queue_ = sql_queue_.get();
  if (!options_.queue_url.empty()) {
    SEGHUB_ASSIGN_OR_RETURN(redis_, storage::RedisClient::Connect(options_.queue_url));
    RedisJobQueueOptions redis_options;
    redis_options.reclaim_idle = options_.reclaim_idle;
    redis_queue_ = std::make_unique<RedisJobQueue>(sql_queue_.get(), redis_.get(), redis_options);
    queue_ = redis_queue_.get();
    relay_ = std::make_unique<RedisEventRelay>(&events_, options_.queue_url, NewId());
    SEGHUB_RETURN_IF_ERROR(relay_->Start());
  }
  if (!options_.run_jobs.value_or(options_.queue_url.empty())) return Status::Ok();
  JobRunnerOptions runner_options;
  runner_options.worker_id = options_.worker_id.empty() ? DefaultWorkerId() : options_.worker_id;
  runner_options.max_in_flight = options_.max_in_flight;
  runner_options.lease = options_.lease;
  // Embedded (SQLite, no Redis): no other worker can exist, so at startup every job left
  // `processing` is requeued at once instead of after its lease.
  runner_options.exclusive = options_.db_url.empty() && options_.queue_url.empty();
  const storage::BlobSource* job_blobs =
      options_.job_blobs != nullptr ? options_.job_blobs : blobs_.get();
  runner_ = std::make_unique<JobRunner>(queue_, db_.get(), job_blobs, segmenter_, &events_, clock_,
                                        runner_options);
  return Status::Ok();
}

Hub::~Hub() { Stop(); }

void Hub::Stop() {
  if (runner_) runner_->Stop();
  if (relay_) relay_->Stop();
  {
    std::lock_guard<std::mutex> lock(monitor_mu_);
    monitor_stop_ = true;
  }
  monitor_cv_.notify_all();
  if (monitor_.joinable()) monitor_.join();
}

Status Hub::Ping() { return db_->Ping(); }

std::string Hub::dependency_error() const {
  std::lock_guard<std::mutex> lock(monitor_mu_);
  return dependency_error_;
}

void Hub::MonitorLoop() {
  std::unique_lock<std::mutex> lock(monitor_mu_);
  while (!monitor_stop_) {
    lock.unlock();
    Status ping = db_->Ping();
    Status redis_ping = redis_ ? redis_->Ping() : Status::Ok();
    lock.lock();
    std::string error = !ping.ok()         ? "database: " + ping.message()
                        : !redis_ping.ok() ? "redis: " + redis_ping.message()
                                           : "";
    if (error != dependency_error_) {
      if (error.empty()) {
        SEGHUB_LOG_INFO("hub: the database answers again");
      } else {
        SEGHUB_LOG_WARN("hub: {}", error);
      }
    }
    dependency_error_ = error;
    lock.unlock();
    RefreshMetrics();
    lock.lock();
    monitor_cv_.wait_for(lock, std::chrono::seconds(2), [this] { return monitor_stop_; });
  }
}

Result<SubmitResult> Hub::Submit(const std::string& user_id, const std::string& project_id,
                                 const SegmentSubmission& request) {
  SEGHUB_RETURN_IF_ERROR(projects_->Require(user_id, project_id, Role::kEditor).status());
  if (request.priority < 0 || request.priority > 10) {
    return InvalidArgument("priority must be in 0..10");
  }
  if (request.threshold && (*request.threshold < 0.0 || *request.threshold > 1.0)) {
    return InvalidArgument("threshold must be in 0..1");
  }
  std::string model = request.model.empty() ? segmenter_->default_model() : request.model;
  Result<engine::ModelStatus> resolved = segmenter_->ResolveModel(model);
  if (!resolved.ok()) return InvalidArgument("model: " + resolved.status().message());

  std::string sql = "SELECT id, status FROM images WHERE project_id = ?";
  SEGHUB_ASSIGN_OR_RETURN(storage::QueryResult rows, db_->Query(sql, {project_id}));
  std::map<std::string, std::string> status_of;
  for (const storage::Row& r : rows.rows) status_of[r.Text(0)] = r.Text(1);
  std::vector<std::string> ids = request.image_ids;
  if (ids.empty()) {
    for (const auto& [id, status] : status_of) {
      if (request.force || status != "done") ids.push_back(id);
    }
  }
  nlohmann::json params = {{"detect_holes", request.detect_holes}};
  params["threshold"] = request.threshold ? nlohmann::json(*request.threshold) : nlohmann::json();
  if (request.scale) params["scale"] = *request.scale;
  std::vector<JobSpec> specs;
  for (const std::string& id : ids) {
    if (!status_of.count(id)) return NotFound("image " + id + " is not in this project");
    specs.push_back({id, project_id, user_id, model, params, request.priority});
  }
  SubmitResult out;
  out.batch_id = NewId();
  if (!specs.empty()) {
    SEGHUB_ASSIGN_OR_RETURN(std::vector<std::string> job_ids,
                            queue_->EnqueueBatch(out.batch_id, specs));
    out.queued = static_cast<int64_t>(job_ids.size());
    if (runner_) runner_->Wake();
  }
  out.skipped = static_cast<int64_t>(specs.size()) - out.queued;
  Result<QueueCounts> counts = queue_->ProjectCounts(project_id);
  if (counts.ok()) {
    events_.Publish({"queueStats",
                     user_id,
                     project_id,
                     {{"projectId", project_id},
                      {"queued", counts->queued},
                      {"processing", counts->processing},
                      {"total", counts->total()}}});
  }
  return out;
}

Result<int64_t> Hub::CancelProject(const std::string& user_id, const std::string& project_id) {
  SEGHUB_RETURN_IF_ERROR(projects_->Require(user_id, project_id, Role::kEditor).status());
  SEGHUB_ASSIGN_OR_RETURN(std::vector<std::string> ids, queue_->CancelProject(project_id));
  // Workers elsewhere notice at their next lease renewal.
  if (runner_) runner_->CancelLocal(ids);
  return static_cast<int64_t>(ids.size());
}

Result<JobInfo> Hub::GetJob(const std::string& user_id, const std::string& job_id) {
  Result<JobInfo> job = queue_->GetJob(job_id);
  if (!job.ok()) return job.status();
  if (!projects_->RoleOf(user_id, job->project_id).ok()) return NotFound("job not found");
  return job;
}

Result<int64_t> Hub::CancelJob(const std::string& user_id, const std::string& job_id) {
  SEGHUB_ASSIGN_OR_RETURN(JobInfo job, GetJob(user_id, job_id));
  SEGHUB_RETURN_IF_ERROR(projects_->Require(user_id, job.project_id, Role::kEditor).status());
  SEGHUB_ASSIGN_OR_RETURN(std::vector<std::string> ids, queue_->Cancel({job_id}));
  if (runner_) runner_->CancelLocal(ids);
  return static_cast<int64_t>(ids.size());
}

Result<QueueCounts> Hub::ProjectQueue(const std::string& user_id, const std::string& project_id) {
  SEGHUB_RETURN_IF_ERROR(projects_->RoleOf(user_id, project_id).status());
  return queue_->ProjectCounts(project_id);
}

}  // namespace seghub::hub
