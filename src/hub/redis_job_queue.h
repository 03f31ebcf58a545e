// RedisJobQueue: the JobQueue for many worker machines. The SQL database (SqlJobQueue) stays the
// source of truth for job state; Redis Streams with one consumer group carry delivery.
//
// Keys (all under options.key_prefix, default "seghub:jobs"; standalone Redis or Sentinel, not
// Cluster: the Lua scripts touch keys they compute):
//   <p>:s:<band>:<user>  a stream per priority band (2 digits, the job priority) and user;
//                        entries {job: <id>}, consumer group options.group
//   <p>:active           zset of the "<band>:<user>" streams that may hold entries
//   <p>:served, <p>:seq  zset user -> when last served, and its counter: the round robin
//   <p>:delayed          zset "<job id>\t<band>:<user>" -> unix ms: retries backing off
//   <p>:published        set of job ids Redis holds (in a stream or delayed)
//   <p>:cursor           hash stream -> XAUTOCLAIM cursor
//   <p>:republisher      lock: one Republish() scan per republish_grace across workers
//
// Delivery is at-least-once and the SQL claim guard makes it exactly-once in effect:
//  - EnqueueBatch commits the jobs in SQL first, then publishes them (XADD). If Redis is down
//    the jobs are still accepted; Republish() (run by RecoverAbandoned, i.e. periodically by the
//    JobRunner) publishes queued jobs Redis does not know about: after a failed XADD, or after
//    Redis lost its data (restart without persistence).
//  - Claim runs one Lua script: due retries move into their streams, entries idle longer than
//    reclaim_idle (their worker died) are taken over with XAUTOCLAIM, then new entries are read
//    (XREADGROUP) highest band first, least recently served user first, one at a time, so
//    fairness holds across all workers. Each delivered id is then claimed in SQL (ClaimById): a
//    job done, cancelled or failed is acknowledged and dropped; a job leased to a live worker
//    stays pending for it.
//  - Complete/Fail/Cancel commit in SQL first, then XACK + XDEL the entry. A lost ack only means
//    a redelivery that the SQL claim guard refuses. RenewLease also resets the entry's idle time
//    (XCLAIM to itself), so a live worker's long job is not reclaimed.
//  - A Redis failure is kUnavailable from Claim (never an exception); calls that committed in
//    SQL still succeed. The RedisClient reconnects with backoff.
//
// Threading: thread-safe; any thread. Ownership: `sql` and `redis` are borrowed and must outlive
// the queue. One RedisJobQueue per worker process is typical; workers are told apart by the
// `worker` argument of Claim (the Redis consumer name).
#ifndef SEGHUB_HUB_REDIS_JOB_QUEUE_H_
#define SEGHUB_HUB_REDIS_JOB_QUEUE_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "hub/job_queue.h"
#include "hub/sql_job_queue.h"
#include "storage/redis_client.h"

namespace seghub::hub {

struct RedisJobQueueOptions {
  std::string key_prefix = "seghub:jobs";
  std::string group = "workers";
  // A delivered entry unacknowledged this long (Redis time) is taken over by another worker,
  // which claims it in SQL once the job's lease has expired too. Keep it above the runner's
  // lease renewal interval (lease / 3).
  std::chrono::milliseconds reclaim_idle{60000};
  // Republish() leaves queued jobs updated more recently than this alone: their XADD normally
  // follows the SQL commit within milliseconds.
  std::chrono::milliseconds republish_grace{10000};
  int republish_page = 500;  // SQL rows per page when scanning queued jobs
};

class RedisJobQueue : public JobQueue {
 public:
  RedisJobQueue(SqlJobQueue* sql, storage::RedisClient* redis, RedisJobQueueOptions options = {});

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
  // SQL's RecoverAbandoned, then Republish(); a Redis failure there is logged, not returned.
  Result<int64_t> RecoverAbandoned(bool all_processing) override;
  Result<JobInfo> GetJob(const std::string& job_id) override;
  Result<QueueCounts> ProjectCounts(const std::string& project_id) override;
  Result<QueueCounts> GlobalCounts() override;

  // Publishes every runnable queued job (older than republish_grace) that Redis does not hold.
  // Duplicates are harmless (the SQL claim guard). With a grace > 0 at most one worker scans per
  // grace period (a Redis lock; the others return 0 at once). Returns how many were published.
  // Any thread.
  Result<int64_t> Republish();

  // "<prefix>:s:<band>:<user>": the stream a job of `user_id` with `priority` goes to.
  std::string StreamKey(const std::string& user_id, int priority) const;

 private:
  struct Delivery {
    std::string stream, entry_id, worker;
  };

  Status Publish(const std::vector<QueuedJobRef>& jobs, bool only_missing, int64_t* published);
  // XACK + XDEL the job's entry, if this process delivered it. With delay_until_ms >= 0 the job
  // goes to the delayed set (a retry), else it is dropped from the published set.
  void Acknowledge(const std::string& job_id, int64_t delay_until_ms = -1);
  void AcknowledgeEntry(const std::string& job_id, const Delivery& d, int64_t delay_until_ms);
  // Claims one delivered entry in SQL; nullopt (after acking what is dead) when not ours.
  Result<std::optional<ClaimedJob>> Take(const std::string& worker, const Delivery& d,
                                         const std::string& job_id,
                                         std::chrono::milliseconds lease);
  std::string Member(const std::string& user_id, int priority) const;

  SqlJobQueue* sql_;
  storage::RedisClient* redis_;
  const RedisJobQueueOptions options_;
  std::mutex mu_;
  std::map<std::string, Delivery> deliveries_;  // guarded by mu_: job id -> its stream entry
};

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_REDIS_JOB_QUEUE_H_
