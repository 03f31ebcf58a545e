#include "hub/sql_job_queue.h"

#include <algorithm>
#include <set>

#include "hub/ids.h"

namespace seghub::hub {
namespace {

using storage::Connection;
using storage::Dialect;
using storage::SqlParams;
using storage::SqlValue;

// Any fixed number: the key of the PostgreSQL advisory lock that serialises claims.
constexpr int64_t kClaimLockKey = 0x5e6b0b0c1a1;

constexpr const char* kJobColumns =
    "id, batch_id, image_id, project_id, user_id, model, status, error, priority, attempts, "
    "created_at, updated_at, finished_at";

JobInfo JobFromRow(const storage::Row& r) {
  JobInfo j;
  j.id = r.Text(0);
  j.batch_id = r.Text(1);
  j.image_id = r.Text(2);
  j.project_id = r.Text(3);
  j.user_id = r.Text(4);
  j.model = r.Text(5);
  j.status = r.Text(6);
  j.error = r.Text(7);
  j.priority = static_cast<int>(r.Int(8));
  j.attempts = static_cast<int>(r.Int(9));
  j.created_at_ms = r.Int(10);
  j.updated_at_ms = r.Int(11);
  if (!r.IsNull(12)) j.finished_at_ms = r.Int(12);
  return j;
}

// What a claim reads, in ClaimedFromRow's order.
constexpr const char* kClaimColumns =
    "j.id, j.batch_id, j.image_id, j.project_id, j.user_id, j.model, j.params_json, j.priority, "
    "j.attempts, i.blob_key";

// A ClaimedJob from kClaimColumns, with a fresh claim token.
ClaimedJob ClaimedFromRow(const storage::Row& row) {
  ClaimedJob job;
  job.id = row.Text(0);
  job.batch_id = row.Text(1);
  job.image_id = row.Text(2);
  job.project_id = row.Text(3);
  job.user_id = row.Text(4);
  job.model = row.Text(5);
  job.params = nlohmann::json::parse(row.Text(6), nullptr, /*allow_exceptions=*/false);
  if (job.params.is_discarded()) job.params = nlohmann::json::object();
  job.priority = static_cast<int>(row.Int(7));
  job.attempts = static_cast<int>(row.Int(8));
  job.blob_key = row.Text(9);
  job.claim_token = NewId();
  return job;
}

// Sets the image's status (and error: NULL when empty).
Status SetImageStatus(Connection& conn, const std::string& image_id, const char* status,
                      const std::string& error, int64_t now) {
  SqlValue err = error.empty() ? SqlValue{} : SqlValue{error};
  return conn
      .Execute("UPDATE images SET status = ?, error = ?, updated_at = ? WHERE id = ?",
               {std::string(status), err, now, image_id})
      .status();
}

}  // namespace

SqlJobQueue::SqlJobQueue(storage::Database* db, const Clock* clock, SqlJobQueueOptions options)
    : db_(db), clock_(clock ? clock : SystemClock::Get()), options_(options) {}

int64_t SqlJobQueue::NowMs() const { return clock_->NowUnixMs(); }

Result<std::vector<std::string>> SqlJobQueue::EnqueueBatch(const std::string& batch_id,
                                                           const std::vector<JobSpec>& jobs) {
  for (const JobSpec& spec : jobs) {
    if (!spec.params.is_null() && !spec.params.is_object()) {
      return InvalidArgument("job params must be a JSON object");
    }
  }
  const int64_t now = NowMs();
  // PostgreSQL: lock each image row first, so two concurrent batches for the same image cannot
  // both see "no active job" and insert one each.
  const std::string lock = db_->dialect() == Dialect::kPostgres ? " FOR UPDATE" : "";
  std::vector<std::string> ids;
  Status s = db_->Transact([&](Connection& conn) -> Status {
    ids.clear();  // the transaction may be retried
    std::set<std::string> seen;
    for (const JobSpec& spec : jobs) {
      if (!seen.insert(spec.image_id).second) continue;
      SEGHUB_ASSIGN_OR_RETURN(
          auto image, conn.Query("SELECT id FROM images WHERE id = ?" + lock, {spec.image_id}));
      if (image.empty()) continue;  // deleted meanwhile: nothing to segment
      SEGHUB_ASSIGN_OR_RETURN(auto active, conn.Query("SELECT id FROM jobs WHERE image_id = ? "
                                                      "AND status IN ('queued', 'processing')",
                                                      {spec.image_id}));
      if (!active.empty()) continue;
      std::string id = NewId();
      const nlohmann::json params = spec.params.is_null() ? nlohmann::json::object() : spec.params;
      const int64_t priority = std::clamp(spec.priority, 0, 10);
      SEGHUB_RETURN_IF_ERROR(
          conn.Execute("INSERT INTO jobs (id, batch_id, image_id, project_id, user_id, model, "
                       "params_json, priority, status, attempts, available_at, created_at, "
                       "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?)",
                       {id, batch_id, spec.image_id, spec.project_id, spec.user_id, spec.model,
                        params.dump(), priority, now, now, now})
              .status());
      SEGHUB_RETURN_IF_ERROR(SetImageStatus(conn, spec.image_id, kJobQueued, "", now));
      // A user new to the queue starts at 0: served before anyone already served.
      SEGHUB_RETURN_IF_ERROR(conn.Execute("INSERT INTO queue_users (user_id, served_seq) "
                                          "VALUES (?, 0) ON CONFLICT (user_id) DO NOTHING",
                                          {spec.user_id})
                                 .status());
      ids.push_back(std::move(id));
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return ids;
}

Result<std::vector<ClaimedJob>> SqlJobQueue::Claim(const std::string& worker, int max_jobs,
                                                   std::chrono::milliseconds lease) {
  std::vector<ClaimedJob> out;
  if (max_jobs <= 0) return out;
  const int64_t now = NowMs();
  const int64_t lease_until = now + lease.count();
  Status s = db_->Transact([&](Connection& conn) -> Status {
    out.clear();
    if (db_->dialect() == Dialect::kPostgres) {
      SEGHUB_RETURN_IF_ERROR(
          conn.Query("SELECT pg_advisory_xact_lock(?)", {kClaimLockKey}).status());
    }
    SEGHUB_ASSIGN_OR_RETURN(auto seq,
                            conn.Query("SELECT COALESCE(MAX(served_seq), 0) FROM queue_users"));
    int64_t served_seq = seq.rows.at(0).Int(0);
    for (int i = 0; i < max_jobs; ++i) {
      SEGHUB_ASSIGN_OR_RETURN(bool claimed,
                              ClaimOne(conn, worker, now, lease_until, &served_seq, &out));
      if (!claimed) break;
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

// Claims the best runnable job, if any, and moves its user to the back of the round robin.
Result<bool> SqlJobQueue::ClaimOne(Connection& conn, const std::string& worker, int64_t now,
                                   int64_t lease_until, int64_t* served_seq,
                                   std::vector<ClaimedJob>* out) {
  const std::string lock =
      db_->dialect() == Dialect::kPostgres ? " FOR UPDATE OF j SKIP LOCKED" : "";
  SEGHUB_ASSIGN_OR_RETURN(auto r,
                          conn.Query(std::string("SELECT ") + kClaimColumns +
                                         " FROM jobs j JOIN images i ON i.id = j.image_id "
                                         "LEFT JOIN queue_users q ON q.user_id = j.user_id "
                                         "WHERE j.status = 'queued' AND j.available_at <= ? "
                                         "ORDER BY j.priority DESC, COALESCE(q.served_seq, 0) ASC, "
                                         "j.created_at ASC, j.id ASC LIMIT 1" +
                                         lock,
                                     {now}));
  if (r.empty()) return false;
  ClaimedJob job = ClaimedFromRow(r.rows[0]);
  SEGHUB_ASSIGN_OR_RETURN(
      int64_t changed,
      conn.Execute("UPDATE jobs SET status = 'processing', claim_token = ?, worker = ?, "
                   "lease_until = ?, updated_at = ? WHERE id = ? AND status = 'queued'",
                   {job.claim_token, worker, lease_until, now, job.id}));
  if (changed != 1) return Internal("claimed job " + job.id + " changed under the claim");
  SEGHUB_RETURN_IF_ERROR(SetImageStatus(conn, job.image_id, kJobProcessing, "", now));
  ++*served_seq;
  SEGHUB_RETURN_IF_ERROR(conn.Execute("INSERT INTO queue_users (user_id, served_seq) VALUES (?, ?) "
                                      "ON CONFLICT (user_id) DO UPDATE SET served_seq = ?",
                                      {job.user_id, *served_seq, *served_seq})
                             .status());
  out->push_back(std::move(job));
  return true;
}

Status SqlJobQueue::RenewLease(const ClaimedJob& job, std::chrono::milliseconds lease) {
  const int64_t now = NowMs();
  auto changed = db_->Execute(
      "UPDATE jobs SET lease_until = ?, updated_at = ? "
      "WHERE id = ? AND status = 'processing' AND claim_token = ?",
      {now + lease.count(), now, job.id, job.claim_token});
  if (!changed.ok()) return changed.status();
  if (*changed != 1) return Status(StatusCode::kAborted, "job " + job.id + " is no longer ours");
  return Status::Ok();
}

Status SqlJobQueue::Complete(const ClaimedJob& job,
                             const std::function<Status(Connection&)>& write_result) {
  const int64_t now = NowMs();
  return db_->Transact([&](Connection& conn) -> Status {
    SEGHUB_ASSIGN_OR_RETURN(
        int64_t changed,
        conn.Execute("UPDATE jobs SET status = 'done', error = NULL, lease_until = NULL, "
                     "updated_at = ?, finished_at = ? "
                     "WHERE id = ? AND status = 'processing' AND claim_token = ?",
                     {now, now, job.id, job.claim_token}));
    if (changed != 1) return Status(StatusCode::kAborted, "job " + job.id + " is no longer ours");
    return write_result ? write_result(conn) : Status::Ok();
  });
}

Status SqlJobQueue::Fail(const ClaimedJob& job, const Status& error, bool retryable) {
  const int64_t now = NowMs();
  const std::string message = error.message().empty() ? error.ToString() : error.message();
  return db_->Transact([&](Connection& conn) -> Status {
    SEGHUB_ASSIGN_OR_RETURN(auto r, conn.Query("SELECT attempts FROM jobs WHERE id = ? AND "
                                               "status = 'processing' AND claim_token = ?",
                                               {job.id, job.claim_token}));
    if (r.empty()) return Status(StatusCode::kAborted, "job " + job.id + " is no longer ours");
    const int64_t attempts = r.rows[0].Int(0) + 1;
    if (retryable && attempts < options_.max_attempts) {
      int64_t backoff = options_.backoff_base.count();
      for (int64_t i = 1; i < attempts; ++i) backoff *= 4;
      SEGHUB_RETURN_IF_ERROR(
          conn.Execute("UPDATE jobs SET status = 'queued', attempts = ?, error = ?, "
                       "claim_token = NULL, worker = NULL, lease_until = NULL, "
                       "available_at = ?, updated_at = ? WHERE id = ?",
                       {attempts, message, now + backoff, now, job.id})
              .status());
      return SetImageStatus(conn, job.image_id, kJobQueued, "", now);
    }
    SEGHUB_RETURN_IF_ERROR(conn.Execute("UPDATE jobs SET status = 'failed', attempts = ?, "
                                        "error = ?, lease_until = NULL, updated_at = ?, "
                                        "finished_at = ? WHERE id = ?",
                                        {attempts, message, now, now, job.id})
                               .status());
    return SetImageStatus(conn, job.image_id, kJobFailed, message, now);
  });
}

Status SqlJobQueue::CancelIn(Connection& conn, const std::vector<std::string>& ids,
                             const std::string& user_id, std::vector<std::string>* cancelled) {
  const int64_t now = NowMs();
  for (const std::string& id : ids) {
    SEGHUB_ASSIGN_OR_RETURN(
        auto r, conn.Query("UPDATE jobs SET status = 'cancelled', lease_until = NULL, "
                           "updated_at = ?, finished_at = ? WHERE id = ? AND "
                           "status IN ('queued', 'processing') AND (? = '' OR user_id = ?) "
                           "RETURNING image_id",
                           {now, now, id, user_id, user_id}));
    if (r.empty()) continue;
    SEGHUB_RETURN_IF_ERROR(SetImageStatus(conn, r.rows[0].Text(0), kJobCancelled, "", now));
    cancelled->push_back(id);
  }
  return Status::Ok();
}

Result<std::vector<std::string>> SqlJobQueue::Cancel(const std::vector<std::string>& job_ids,
                                                     const std::string& user_id) {
  std::vector<std::string> cancelled;
  Status s = db_->Transact([&](Connection& conn) -> Status {
    cancelled.clear();
    return CancelIn(conn, job_ids, user_id, &cancelled);
  });
  if (!s.ok()) return s;
  return cancelled;
}

Result<std::vector<std::string>> SqlJobQueue::CancelProject(const std::string& project_id) {
  std::vector<std::string> cancelled;
  Status s = db_->Transact([&](Connection& conn) -> Status {
    cancelled.clear();
    SEGHUB_ASSIGN_OR_RETURN(auto r, conn.Query("SELECT id FROM jobs WHERE project_id = ? AND "
                                               "status IN ('queued', 'processing') "
                                               "ORDER BY created_at, id",
                                               {project_id}));
    std::vector<std::string> ids;
    for (const storage::Row& row : r.rows) ids.push_back(row.Text(0));
    return CancelIn(conn, ids, "", &cancelled);
  });
  if (!s.ok()) return s;
  return cancelled;
}

Result<int64_t> SqlJobQueue::RecoverAbandoned(bool all_processing) {
  const int64_t now = NowMs();
  int64_t recovered = 0;
  Status s = db_->Transact([&](Connection& conn) -> Status {
    recovered = 0;
    SEGHUB_ASSIGN_OR_RETURN(
        auto r, conn.Query("SELECT id, image_id, attempts FROM jobs WHERE status = 'processing' "
                           "AND (? = 1 OR lease_until IS NULL OR lease_until < ?)",
                           {int64_t{all_processing ? 1 : 0}, now}));
    for (const storage::Row& row : r.rows) {
      const std::string id = row.Text(0), image_id = row.Text(1);
      // A worker that died holding the job counts as a failed attempt (poison images).
      const int64_t attempts = row.Int(2) + (all_processing ? 0 : 1);
      const bool give_up = attempts >= options_.max_attempts;
      const std::string error = "the worker processing this job stopped";
      SEGHUB_RETURN_IF_ERROR(
          conn.Execute("UPDATE jobs SET status = ?, attempts = ?, error = ?, claim_token = NULL, "
                       "worker = NULL, lease_until = NULL, available_at = ?, updated_at = ?, "
                       "finished_at = ? WHERE id = ? AND status = 'processing'",
                       {std::string(give_up ? kJobFailed : kJobQueued), attempts,
                        give_up ? SqlValue{error} : SqlValue{}, now, now,
                        give_up ? SqlValue{now} : SqlValue{}, id})
              .status());
      SEGHUB_RETURN_IF_ERROR(SetImageStatus(conn, image_id, give_up ? kJobFailed : kJobQueued,
                                            give_up ? error : "", now));
      ++recovered;
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return recovered;
}

Result<std::optional<ClaimedJob>> SqlJobQueue::ClaimById(const std::string& job_id,
                                                         const std::string& worker,
                                                         std::chrono::milliseconds lease) {
  const int64_t now = NowMs();
  std::optional<ClaimedJob> out;
  Status s = db_->Transact([&](Connection& conn) -> Status {
    SEGHUB_ASSIGN_OR_RETURN(out, ClaimByIdIn(conn, job_id, worker, now, now + lease.count()));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::optional<ClaimedJob>> SqlJobQueue::ClaimByIdIn(Connection& conn, const std::string& id,
                                                           const std::string& worker, int64_t now,
                                                           int64_t lease_until) {
  // PostgreSQL: lock the row so a concurrent cancel or claim of the same id waits for us.
  const std::string lock = db_->dialect() == Dialect::kPostgres ? " FOR UPDATE OF j" : "";
  SEGHUB_ASSIGN_OR_RETURN(
      auto r, conn.Query(std::string("SELECT ") + kClaimColumns +
                             ", j.status, j.available_at, j.lease_until, j.claim_token FROM jobs j "
                             "JOIN images i ON i.id = j.image_id WHERE j.id = ?" +
                             lock,
                         {id}));
  if (r.empty()) return std::optional<ClaimedJob>();
  const storage::Row& row = r.rows[0];
  const std::string status = row.Text(10);
  const bool runnable = status == kJobQueued && row.Int(11) <= now;
  const bool abandoned = status == kJobProcessing && (row.IsNull(12) || row.Int(12) < now);
  if (!runnable && !abandoned) return std::optional<ClaimedJob>();
  ClaimedJob job = ClaimedFromRow(row);
  if (abandoned) {
    // Its worker died holding it: a lost attempt, as in RecoverAbandoned (poison images).
    ++job.attempts;
    if (job.attempts >= options_.max_attempts) {
      const std::string error = "the worker processing this job stopped";
      SEGHUB_RETURN_IF_ERROR(conn.Execute("UPDATE jobs SET status = 'failed', attempts = ?, "
                                          "error = ?, lease_until = NULL, updated_at = ?, "
                                          "finished_at = ? WHERE id = ?",
                                          {int64_t{job.attempts}, error, now, now, id})
                                 .status());
      SEGHUB_RETURN_IF_ERROR(SetImageStatus(conn, job.image_id, kJobFailed, error, now));
      return std::optional<ClaimedJob>();
    }
  }
  SEGHUB_ASSIGN_OR_RETURN(
      int64_t changed,
      conn.Execute("UPDATE jobs SET status = 'processing', claim_token = ?, worker = ?, "
                   "lease_until = ?, attempts = ?, updated_at = ? WHERE id = ? AND status = ?",
                   {job.claim_token, worker, lease_until, int64_t{job.attempts}, now, id, status}));
  if (changed != 1) return Internal("claimed job " + id + " changed under the claim");
  SEGHUB_RETURN_IF_ERROR(SetImageStatus(conn, job.image_id, kJobProcessing, "", now));
  return std::optional<ClaimedJob>(std::move(job));
}

namespace {
QueuedJobRef QueuedFromRow(const storage::Row& row) {
  QueuedJobRef ref;
  ref.id = row.Text(0);
  ref.user_id = row.Text(1);
  ref.priority = static_cast<int>(row.Int(2));
  ref.available_at_ms = row.Int(3);
  return ref;
}
}  // namespace

Result<std::vector<QueuedJobRef>> SqlJobQueue::QueuedJobs(const std::vector<std::string>& job_ids) {
  std::vector<QueuedJobRef> out;
  constexpr size_t kChunk = 200;  // well under every driver's bound-parameter limit
  for (size_t begin = 0; begin < job_ids.size(); begin += kChunk) {
    const size_t end = std::min(job_ids.size(), begin + kChunk);
    std::string marks;
    SqlParams params;
    for (size_t i = begin; i < end; ++i) {
      marks += marks.empty() ? "?" : ", ?";
      params.push_back(job_ids[i]);
    }
    SEGHUB_ASSIGN_OR_RETURN(auto r,
                            db_->Query("SELECT id, user_id, priority, available_at FROM jobs "
                                       "WHERE status = 'queued' AND id IN (" +
                                           marks + ")",
                                       params));
    for (const storage::Row& row : r.rows) out.push_back(QueuedFromRow(row));
  }
  return out;
}

Result<std::vector<QueuedJobRef>> SqlJobQueue::ListQueued(const std::string& after_id,
                                                          int64_t updated_before_ms, int limit) {
  SEGHUB_ASSIGN_OR_RETURN(auto r,
                          db_->Query("SELECT id, user_id, priority, available_at FROM jobs "
                                     "WHERE status = 'queued' AND id > ? AND available_at <= ? AND "
                                     "updated_at < ? ORDER BY id LIMIT ?",
                                     {after_id, NowMs(), updated_before_ms, int64_t{limit}}));
  std::vector<QueuedJobRef> out;
  for (const storage::Row& row : r.rows) out.push_back(QueuedFromRow(row));
  return out;
}

Result<JobInfo> SqlJobQueue::GetJob(const std::string& job_id) {
  SEGHUB_ASSIGN_OR_RETURN(
      auto r,
      db_->Query(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?", {job_id}));
  if (r.empty()) return NotFound("job " + job_id + " not found");
  return JobFromRow(r.rows[0]);
}

Result<QueueCounts> SqlJobQueue::Counts(const std::string& where, const SqlParams& params) {
  SEGHUB_ASSIGN_OR_RETURN(
      auto r,
      db_->Query("SELECT status, COUNT(*) FROM jobs " + where + " GROUP BY status", params));
  QueueCounts c;
  for (const storage::Row& row : r.rows) {
    const std::string status = row.Text(0);
    const int64_t n = row.Int(1);
    if (status == kJobQueued) c.queued = n;
    if (status == kJobProcessing) c.processing = n;
    if (status == kJobDone) c.done = n;
    if (status == kJobFailed) c.failed = n;
    if (status == kJobCancelled) c.cancelled = n;
  }
  return c;
}

Result<QueueCounts> SqlJobQueue::ProjectCounts(const std::string& project_id) {
  return Counts("WHERE project_id = ?", {project_id});
}

Result<QueueCounts> SqlJobQueue::GlobalCounts() { return Counts("", {}); }

}  // namespace seghub::hub
