#include "hub/job_runner.h"

#include <algorithm>

#include "common/logging.h"
#include "hub/ids.h"

namespace seghub::hub {
namespace {

using std::chrono::milliseconds;

// Bad input the same claim would fail on again; anything else may be transient.
bool Retryable(const Status& s) {
  return s.code() != StatusCode::kInvalidArgument && s.code() != StatusCode::kNotFound &&
         s.code() != StatusCode::kPayloadTooLarge;
}

int64_t ExternalPolygons(const nlohmann::json& result) {
  int64_t n = 0;
  if (!result.contains("polygons") || !result["polygons"].is_array()) return 0;
  for (const nlohmann::json& p : result["polygons"]) {
    if (p.value("type", "external") == "external") ++n;
  }
  return n;
}

}  // namespace

std::string ResultCacheKey(const std::string& blob_key, const std::string& model,
                           const nlohmann::json& params) {
  return Sha256Hex(blob_key + "|" + model + "|" + params.dump());
}

pipeline::SegmentRequest SegmentRequestFromParams(const nlohmann::json& params) {
  pipeline::SegmentRequest req;
  if (!params.is_object()) return req;
  auto number = [&](const char* key) -> std::optional<double> {
    auto it = params.find(key);
    if (it == params.end() || !it->is_number()) return std::nullopt;
    return it->get<double>();
  };
  if (auto t = number("threshold")) req.threshold = static_cast<float>(*t);
  auto holes = params.find("detect_holes");
  if (holes != params.end() && holes->is_boolean()) req.detect_holes = holes->get<bool>();
  if (auto a = number("min_area")) req.min_area = *a;
  if (auto u = number("um_per_px")) req.um_per_px = *u;
  if (auto f = number("scale")) req.scale = *f;
  return req;
}

JobRunner::JobRunner(JobQueue* queue, storage::Database* db, const storage::BlobSource* blobs,
                     pipeline::SegmentService* segmenter, EventBus* events, const Clock* clock,
                     JobRunnerOptions options)
    : queue_(queue),
      db_(db),
      blobs_(blobs),
      segmenter_(segmenter),
      events_(events),
      clock_(clock ? clock : SystemClock::Get()),
      options_(std::move(options)) {
  if (options_.worker_id.empty()) options_.worker_id = "worker-" + NewId().substr(0, 12);
  options_.max_in_flight = std::max(1, options_.max_in_flight);
  options_.lease = std::max(options_.lease, milliseconds(300));
}

JobRunner::~JobRunner() { Stop(); }

Status JobRunner::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return FailedPrecondition("the job runner was already started");
    started_ = true;
  }
  if (options_.exclusive) {
    auto n = queue_->RecoverAbandoned(true);
    if (!n.ok()) return n.status();
    if (*n > 0) SEGHUB_LOG_INFO("job runner: requeued {} interrupted jobs", *n);
  }
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void JobRunner::Stop() {
  std::vector<std::shared_ptr<Active>> active;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  std::unique_lock<std::mutex> lock(mu_);
  for (auto& [id, a] : active_) a->cancel->Cancel();
  // SegmentService calls every callback exactly once, cancelled ones promptly.
  cv_.wait(lock, [&] { return active_.empty(); });
  lock.unlock();
  FlushStats(/*force=*/true);
}

void JobRunner::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  wake_ = true;
  cv_.notify_all();
}

int JobRunner::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(active_.size());
}

JobRunnerStats JobRunner::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void JobRunner::Loop() {
  SteadyTime next_renew = clock_->Now() + options_.lease / 3;
  SteadyTime next_recover = clock_->Now() + options_.lease / 2;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      wake_ = false;
    }
    const SteadyTime now = clock_->Now();
    if (now >= next_renew) {
      RenewLeases();
      next_renew = now + options_.lease / 3;
    }
    if (now >= next_recover) {
      auto n = queue_->RecoverAbandoned(false);
      if (!n.ok()) SEGHUB_LOG_WARN("job runner: recovery failed: {}", n.status().ToString());
      next_recover = now + options_.lease / 2;
    }
    const bool more = ClaimSome();
    FlushStats(/*force=*/false);
    if (more) continue;
    std::unique_lock<std::mutex> lock(mu_);
    const milliseconds wait = std::min(options_.poll_interval, NextStatsDue(clock_->Now()));
    cv_.wait_for(lock, std::max(wait, milliseconds(1)), [&] { return stop_ || wake_; });
  }
}

// Claims while there is room; true when it filled every free slot (more may be waiting).
bool JobRunner::ClaimSome() {
  int free;
  {
    std::lock_guard<std::mutex> lock(mu_);
    free = options_.max_in_flight - static_cast<int>(active_.size());
  }
  if (free <= 0) return false;
  auto claimed = queue_->Claim(options_.worker_id, free, options_.lease);
  if (!claimed.ok()) {
    SEGHUB_LOG_WARN("job runner: claim failed: {}", claimed.status().ToString());
    return false;
  }
  for (ClaimedJob& job : *claimed) {
    auto active = std::make_shared<Active>();
    active->job = std::move(job);
    {
      std::lock_guard<std::mutex> lock(mu_);
      active_[active->job.id] = active;
      ++stats_.claimed;
    }
    PublishUpdate(active->job, kJobProcessing, "");
    MarkDirty(active->job.project_id, active->job.user_id);
    Dispatch(active);
  }
  return static_cast<int>(claimed->size()) == free;
}

// Runner thread: answers from the cache or starts the segmentation.
void JobRunner::Dispatch(const std::shared_ptr<Active>& active) {
  const ClaimedJob& job = active->job;
  const std::string model = job.model.empty() ? segmenter_->default_model() : job.model;
  auto cached = db_->Query("SELECT result_json FROM result_cache WHERE cache_key = ?",
                           {ResultCacheKey(job.blob_key, model, job.params)});
  if (cached.ok() && !cached->empty()) {
    auto json = nlohmann::json::parse(cached->rows[0].Text(0), nullptr, false);
    if (!json.is_discarded()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.cache_hits;
      }
      CompleteJob(job, json, /*from_cache=*/true);
      return Finish(job.id);
    }
  }
  auto bytes = blobs_->Get(job.blob_key);
  if (!bytes.ok()) {
    FailJob(job,
            Status(bytes.status().code(), "image file unavailable: " + bytes.status().message()));
    return Finish(job.id);
  }
  pipeline::SegmentRequest req = SegmentRequestFromParams(job.params);
  req.model = model;
  req.client_id = job.user_id;  // the engine's fairness key
  req.priority = job.priority;
  req.cancel = active->cancel;
  Status s = segmenter_->Segment(
      std::move(*bytes), std::move(req),
      [this, active](Result<pipeline::SegmentResult> r) { OnSegmented(active, std::move(r)); });
  if (!s.ok()) {
    FailJob(job, s);
    return Finish(job.id);
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.segmented;
}

// A SegmentService pool thread.
void JobRunner::OnSegmented(const std::shared_ptr<Active>& active,
                            Result<pipeline::SegmentResult> r) {
  const ClaimedJob& job = active->job;
  if (r.ok()) {
    CompleteJob(job, pipeline::SegmentResultToHubJson(*r), /*from_cache=*/false);
  } else if (r.status().code() != StatusCode::kCancelled) {
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping = stop_;
    }
    // While stopping, errors may come from the shutdown itself: leave the job processing for
    // recovery rather than spending one of its attempts.
    if (!stopping) FailJob(job, r.status());
  }
  // kCancelled: the job was cancelled (its events were sent by the canceller) or we are
  // stopping; either way nothing to write.
  Finish(job.id);
}

// Inside Complete's transaction: a new segmentation version, the image done, the cache row
// (computed results only). Runs on the completing thread.
Status JobRunner::WriteResult(storage::Connection& conn, const ClaimedJob& job,
                              const nlohmann::json& result, const std::string& body,
                              bool from_cache, int64_t now) const {
  storage::SqlValue threshold;
  if (result.contains("threshold_used") && result["threshold_used"].is_number()) {
    threshold = result["threshold_used"].get<double>();
  }
  SEGHUB_ASSIGN_OR_RETURN(auto v, conn.Query("SELECT COALESCE(MAX(version), 0) FROM "
                                             "segmentations WHERE image_id = ?",
                                             {job.image_id}));
  const int64_t version = v.rows.at(0).Int(0) + 1;
  SEGHUB_RETURN_IF_ERROR(
      conn.Execute("INSERT INTO segmentations (image_id, version, source, model, threshold, "
                   "polygon_count, result_json, created_by, created_at) "
                   "VALUES (?, ?, 'model', ?, ?, ?, ?, ?, ?)",
                   {job.image_id, version, result.value("model_used", job.model), threshold,
                    ExternalPolygons(result), body, job.user_id, now})
          .status());
  SEGHUB_RETURN_IF_ERROR(conn.Execute("UPDATE images SET status = 'done', error = NULL, "
                                      "updated_at = ? WHERE id = ?",
                                      {now, job.image_id})
                             .status());
  if (from_cache) return Status::Ok();
  const std::string model = job.model.empty() ? segmenter_->default_model() : job.model;
  return conn
      .Execute(
          "INSERT INTO result_cache (cache_key, result_json, created_at) VALUES (?, ?, ?) "
          "ON CONFLICT (cache_key) DO NOTHING",
          {ResultCacheKey(job.blob_key, model, job.params), body, now})
      .status();
}

// Any thread: commits the result (exactly once per claim) and publishes the job's events.
void JobRunner::CompleteJob(const ClaimedJob& job, const nlohmann::json& result, bool from_cache) {
  const std::string body = result.dump();
  const int64_t polygons = ExternalPolygons(result);
  const int64_t now = clock_->NowUnixMs();
  auto write = [&](storage::Connection& conn) {
    return WriteResult(conn, job, result, body, from_cache, now);
  };
  Status s = queue_->Complete(job, write);
  if (s.code() == StatusCode::kAborted) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.lost;
    return;
  }
  if (!s.ok()) {
    SEGHUB_LOG_WARN("job runner: storing the result of job {} failed: {}", job.id, s.ToString());
    return FailJob(job, s);  // if this fails too, the lease expires and the job is recovered
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.done;
  }
  PublishUpdate(job, kJobDone, "");
  events_->Publish({"notification",
                    job.user_id,
                    job.project_id,
                    {{"type", "segmentation-complete"},
                     {"imageId", job.image_id},
                     {"projectId", job.project_id},
                     {"polygonCount", polygons}}});
  MarkDirty(job.project_id, job.user_id);
}

// Any thread.
void JobRunner::FailJob(const ClaimedJob& job, const Status& error) {
  Status s = queue_->Fail(job, error, Retryable(error));
  if (!s.ok()) {
    if (s.code() != StatusCode::kAborted) {
      SEGHUB_LOG_WARN("job runner: failing job {} failed: {}", job.id, s.ToString());
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++(s.code() == StatusCode::kAborted ? stats_.lost : stats_.failed);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.failed;
  }
  // Fail decided between a retry and the end; the row says which.
  auto info = queue_->GetJob(job.id);
  const bool requeued = info.ok() && info->status == kJobQueued;
  PublishUpdate(job, requeued ? kJobQueued : kJobFailed, error.message());
  MarkDirty(job.project_id, job.user_id);
}

// Any thread: the job left this runner.
void JobRunner::Finish(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  active_.erase(job_id);
  wake_ = true;  // a slot is free
  cv_.notify_all();
}

// Runner thread.
void JobRunner::RenewLeases() {
  std::vector<std::shared_ptr<Active>> active;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, a] : active_) active.push_back(a);
  }
  for (const auto& a : active) {
    Status s = queue_->RenewLease(a->job, options_.lease);
    if (s.code() == StatusCode::kAborted) {
      a->cancel->Cancel();  // cancelled or reclaimed elsewhere: stop spending work on it
    } else if (!s.ok()) {
      SEGHUB_LOG_WARN("job runner: lease renewal of {} failed: {}", a->job.id, s.ToString());
    }
  }
}

void JobRunner::CancelLocal(const std::vector<std::string>& job_ids) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& id : job_ids) {
      auto it = active_.find(id);
      if (it != active_.end()) it->second->cancel->Cancel();
    }
  }
  PublishCancelled(job_ids);
}

Result<std::vector<std::string>> JobRunner::CancelJobs(const std::vector<std::string>& job_ids,
                                                       const std::string& user_id) {
  auto cancelled = queue_->Cancel(job_ids, user_id);
  if (!cancelled.ok()) return cancelled.status();
  CancelLocal(*cancelled);
  return cancelled;
}

Result<std::vector<std::string>> JobRunner::CancelProject(const std::string& project_id) {
  auto cancelled = queue_->CancelProject(project_id);
  if (!cancelled.ok()) return cancelled.status();
  CancelLocal(*cancelled);
  return cancelled;
}

void JobRunner::PublishCancelled(const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    auto info = queue_->GetJob(id);
    if (!info.ok() || info->status != kJobCancelled) continue;
    ClaimedJob job;
    job.id = info->id;
    job.image_id = info->image_id;
    job.project_id = info->project_id;
    job.user_id = info->user_id;
    PublishUpdate(job, kJobCancelled, "");
    MarkDirty(job.project_id, job.user_id);
  }
  Wake();  // the runner thread sends the stats
}

void JobRunner::PublishUpdate(const ClaimedJob& job, const char* status, const std::string& error) {
  nlohmann::json data = {{"imageId", job.image_id},
                         {"projectId", job.project_id},
                         {"status", status},
                         {"queueId", job.id}};
  if (!error.empty()) data["error"] = error;
  events_->Publish({"segmentation-update", job.user_id, job.project_id, std::move(data)});
}

void JobRunner::MarkDirty(const std::string& project_id, const std::string& user_id) {
  std::lock_guard<std::mutex> lock(stats_mu_);
  dirty_[project_id] = user_id;
}

// How long until the earliest dirty project may send its stats (poll_interval when none).
milliseconds JobRunner::NextStatsDue(SteadyTime now) const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  milliseconds due = options_.poll_interval;
  for (const auto& [project, user] : dirty_) {
    auto it = last_sent_.find(project);
    if (it == last_sent_.end()) return milliseconds(0);
    auto left =
        std::chrono::duration_cast<milliseconds>(it->second + options_.stats_interval - now);
    due = std::min(due, std::max(left, milliseconds(0)));
  }
  return due;
}

// Runner thread (and Stop): sends queueStats for dirty projects whose throttle allows it, or
// for all of them with `force`. A dirty project stays dirty until sent, so the last change of a
// project is never dropped.
void JobRunner::FlushStats(bool force) {
  std::vector<std::pair<std::string, std::string>> due;
  const SteadyTime now = clock_->Now();
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    for (auto it = dirty_.begin(); it != dirty_.end();) {
      auto sent = last_sent_.find(it->first);
      if (force || sent == last_sent_.end() || now - sent->second >= options_.stats_interval) {
        due.emplace_back(it->first, it->second);
        last_sent_[it->first] = now;
        it = dirty_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& [project, user] : due) {
    auto counts = queue_->ProjectCounts(project);
    if (!counts.ok()) continue;
    events_->Publish({"queueStats",
                      user,
                      project,
                      {{"projectId", project},
                       {"queued", counts->queued},
                       {"processing", counts->processing},
                       {"total", counts->active()}}});
  }
}

}  // namespace seghub::hub
