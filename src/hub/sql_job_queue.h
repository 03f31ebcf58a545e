// SqlJobQueue: the JobQueue in the Hub's own database (SQLite embedded, PostgreSQL for several
// Hub processes), over the `jobs` and `queue_users` tables of hub/schema.cc.
//
// Portable SQL throughout; only the claim branches on the dialect. PostgreSQL: claims take a
// transaction-scoped advisory lock (claims are short and strictly serialised, which keeps the
// round robin exact and rules out deadlocks on queue_users between claimers) and select with
// FOR UPDATE OF j SKIP LOCKED so a row held by a concurrent cancel is skipped, not waited on.
// SQLite: BEGIN IMMEDIATE already serialises writers.
//
// Times: the jobs table stores unix milliseconds. They are derived from the injected (steady)
// Clock plus the wall-clock offset taken at construction, so a ManualClock drives backoff and
// lease expiry in tests while stored times stay close to real time. Several processes sharing
// a PostgreSQL database must have roughly synchronised wall clocks (leases are 30 s).
//
// Threading: thread-safe (the Database is); any thread. Ownership: `db` and `clock` are
// borrowed and must outlive the queue.
#ifndef SEGHUB_HUB_SQL_JOB_QUEUE_H_
#define SEGHUB_HUB_SQL_JOB_QUEUE_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "hub/job_queue.h"
#include "storage/database.h"

namespace seghub::hub {

struct SqlJobQueueOptions {
  int max_attempts = 3;
  std::chrono::milliseconds backoff_base{1000};  // retry n waits base * 4^(n-1)
};

// A queued job as a delivery layer (RedisJobQueue) needs it: where to publish it, and when.
struct QueuedJobRef {
  std::string id, user_id;
  int priority = 0;
  int64_t available_at_ms = 0;
};

class SqlJobQueue : public JobQueue {
 public:
  SqlJobQueue(storage::Database* db, const Clock* clock, SqlJobQueueOptions options = {});

  using JobQueue::Cancel;
  Result<std::vector<std::string>> EnqueueBatch(const std::string& batch_id,
                                                const std::vector<JobSpec>& jobs) override;
  Result<std::vector<ClaimedJob>> Claim(const std::string& worker, int max_jobs,
                                        std::chrono::milliseconds lease) override;
  Status RenewLease(const ClaimedJob& job, std::chrono::milliseconds lease) override;
  Status Complete(const ClaimedJob& job,
                  const std::function<Status(storage::Connection&)>& write_result) override;
  Status Fail(const ClaimedJob& job, const Status& error, bool retryable) override;
  Result<std::vector<std::string>> Cancel(const std::vector<std::string>& job_ids,
                                          const std::string& user_id) override;
  Result<std::vector<std::string>> CancelProject(const std::string& project_id) override;
  Result<int64_t> RecoverAbandoned(bool all_processing) override;
  Result<JobInfo> GetJob(const std::string& job_id) override;
  Result<QueueCounts> ProjectCounts(const std::string& project_id) override;
  Result<QueueCounts> GlobalCounts() override;

  // The current time as the queue stores it (unix ms). Any thread.
  int64_t NowMs() const;

  // For a delivery layer that hands out job ids (RedisJobQueue; any thread). Claims this one job
  // for `worker` when it is queued and runnable, or processing under an expired lease (its
  // worker died: that lost attempt counts, as in RecoverAbandoned, and a job out of attempts is
  // failed instead). nullopt when it is not claimable: done, failed, cancelled, gone, backing
  // off, or leased to a live worker. No round-robin bookkeeping: the caller orders deliveries.
  Result<std::optional<ClaimedJob>> ClaimById(const std::string& job_id, const std::string& worker,
                                              std::chrono::milliseconds lease);
  // Those of `job_ids` that are queued, in no particular order. Any thread.
  Result<std::vector<QueuedJobRef>> QueuedJobs(const std::vector<std::string>& job_ids);
  // Up to `limit` queued jobs with id > after_id (ids ascending: page with the last id) that are
  // runnable now and were last updated before updated_before_ms. Any thread.
  Result<std::vector<QueuedJobRef>> ListQueued(const std::string& after_id,
                                               int64_t updated_before_ms, int limit);

 private:
  Result<bool> ClaimOne(storage::Connection& conn, const std::string& worker, int64_t now,
                        int64_t lease_until, int64_t* served_seq, std::vector<ClaimedJob>* out);
  Result<std::optional<ClaimedJob>> ClaimByIdIn(storage::Connection& conn, const std::string& id,
                                                const std::string& worker, int64_t now,
                                                int64_t lease_until);
  Status CancelIn(storage::Connection& conn, const std::vector<std::string>& ids,
                  const std::string& user_id, std::vector<std::string>* cancelled);
  Result<QueueCounts> Counts(const std::string& where, const storage::SqlParams& params);

  storage::Database* db_;
  const Clock* clock_;  // unix ms for the tables: Clock::NowUnixMs()
  SqlJobQueueOptions options_;
};

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_SQL_JOB_QUEUE_H_
