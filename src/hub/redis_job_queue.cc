#include "hub/redis_job_queue.h"

#include <algorithm>
#include <cstdio>

#include "common/logging.h"

namespace seghub::hub {
namespace {

using storage::RedisReply;

// Publishes jobs. ARGV: prefix, group, only_missing ("1": skip ids in the published set), then
// pairs of stream member ("<band>:<user>") and job id. Returns how many were added.
constexpr const char* kPublishScript = R"lua(
local prefix, group, only_missing = ARGV[1], ARGV[2], ARGV[3]
local published = prefix .. ':published'
local n = 0
for i = 4, #ARGV, 2 do
  local member, job = ARGV[i], ARGV[i + 1]
  if only_missing ~= '1' or redis.call('SISMEMBER', published, job) == 0 then
    local key = prefix .. ':s:' .. member
    redis.pcall('XGROUP', 'CREATE', key, group, '0', 'MKSTREAM')  -- BUSYGROUP is fine
    redis.call('XADD', key, '*', 'job', job)
    redis.call('ZADD', prefix .. ':active', 'NX', 0, member)
    redis.call('SADD', published, job)
    n = n + 1
  end
end
return n
)lua";

// Delivers up to `count` entries to `consumer`. ARGV: prefix, group, consumer, count, now (unix
// ms), min_idle (ms; 0: no reclaim). Returns triples: stream key, entry id, job id.
constexpr const char* kClaimScript = R"lua(
local prefix, group, consumer = ARGV[1], ARGV[2], ARGV[3]
local count, now, min_idle = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local active, served_key = prefix .. ':active', prefix .. ':served'
local function ensure_group(key) redis.pcall('XGROUP', 'CREATE', key, group, '0', 'MKSTREAM') end
-- Retries whose backoff is over go back into their streams.
local delayed = prefix .. ':delayed'
for _, m in ipairs(redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 100)) do
  local tab = string.find(m, '\t', 1, true)
  local job, member = string.sub(m, 1, tab - 1), string.sub(m, tab + 1)
  ensure_group(prefix .. ':s:' .. member)
  redis.call('XADD', prefix .. ':s:' .. member, '*', 'job', job)
  redis.call('ZADD', active, 'NX', 0, member)
  redis.call('ZREM', delayed, m)
end
local streams = {}
for _, member in ipairs(redis.call('ZRANGE', active, 0, -1)) do
  local user = string.sub(member, 4)
  streams[#streams + 1] = {member = member, key = prefix .. ':s:' .. member, user = user,
    band = tonumber(string.sub(member, 1, 2)),
    served = tonumber(redis.call('ZSCORE', served_key, user) or '0')}
end
local function before(a, b)
  if a.band ~= b.band then return a.band > b.band end
  if a.served ~= b.served then return a.served < b.served end
  return a.member < b.member
end
local out, n = {}, 0
local function take(s, id, fields)
  out[#out + 1] = s.key; out[#out + 1] = id; out[#out + 1] = fields[2]
  n = n + 1
  local seq = redis.call('INCR', prefix .. ':seq')
  redis.call('ZADD', served_key, seq, s.user)
  for _, t in ipairs(streams) do if t.user == s.user then t.served = seq end end
end
table.sort(streams, before)
if min_idle > 0 then
  local cursors = prefix .. ':cursor'
  for _, s in ipairs(streams) do
    if n >= count then break end
    local start = redis.call('HGET', cursors, s.key) or '0-0'
    local r = redis.pcall('XAUTOCLAIM', s.key, group, consumer, min_idle, start, 'COUNT', count - n)
    if type(r) == 'table' and not r.err then
      redis.call('HSET', cursors, s.key, r[1])
      for _, e in ipairs(r[2]) do if e and e[2] then take(s, e[1], e[2]) end end
    end
  end
end
while n < count do
  table.sort(streams, before)
  local got = false
  for _, s in ipairs(streams) do
    if not s.empty then
      local r = redis.pcall('XREADGROUP', 'GROUP', group, consumer, 'COUNT', 1, 'STREAMS', s.key, '>')
      if type(r) == 'table' and r.err then  -- NOGROUP: the stream or group was lost
        ensure_group(s.key)
        r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', 1, 'STREAMS', s.key, '>')
      end
      if r and r[1] and #r[1][2] > 0 then
        take(s, r[1][2][1][1], r[1][2][1][2])
        got = true
        break
      end
      s.empty = true
      if redis.call('XLEN', s.key) == 0 then redis.call('ZREM', active, s.member) end
    end
  end
  if not got then break end
end
return out
)lua";

// Acknowledges and deletes an entry. ARGV: prefix, group, stream key, entry id, job id, delay
// ('' or the unix ms the retry is due), delayed member. A retry goes to the delayed set.
constexpr const char* kAckScript = R"lua(
local prefix, group, key, id, job, due, member =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
redis.call('XACK', key, group, id)
redis.call('XDEL', key, id)
if due ~= '' then
  redis.call('ZADD', prefix .. ':delayed', due, job .. '\t' .. member)
else
  redis.call('SREM', prefix .. ':published', job)
end
return 1
)lua";

}  // namespace

RedisJobQueue::RedisJobQueue(SqlJobQueue* sql, storage::RedisClient* redis,
                             RedisJobQueueOptions options)
    : sql_(sql), redis_(redis), options_(std::move(options)) {}

std::string RedisJobQueue::Member(const std::string& user_id, int priority) const {
  char band[8];
  std::snprintf(band, sizeof(band), "%02d:", std::clamp(priority, 0, 99));
  return band + user_id;
}

std::string RedisJobQueue::StreamKey(const std::string& user_id, int priority) const {
  return options_.key_prefix + ":s:" + Member(user_id, priority);
}

Status RedisJobQueue::Publish(const std::vector<QueuedJobRef>& jobs, bool only_missing,
                              int64_t* published) {
  constexpr size_t kChunk = 200;  // bounded script arguments and time inside Redis
  for (size_t begin = 0; begin < jobs.size(); begin += kChunk) {
    std::vector<std::string> argv = {
        "EVAL", kPublishScript, "0", options_.key_prefix, options_.group, only_missing ? "1" : "0"};
    for (size_t i = begin; i < std::min(jobs.size(), begin + kChunk); ++i) {
      argv.push_back(Member(jobs[i].user_id, jobs[i].priority));
      argv.push_back(jobs[i].id);
    }
    SEGHUB_ASSIGN_OR_RETURN(RedisReply r, redis_->CommandOk(argv));
    if (published) *published += r.integer;
  }
  return Status::Ok();
}

Result<std::vector<std::string>> RedisJobQueue::EnqueueBatch(const std::string& batch_id,
                                                             const std::vector<JobSpec>& jobs) {
  SEGHUB_ASSIGN_OR_RETURN(std::vector<std::string> ids, sql_->EnqueueBatch(batch_id, jobs));
  // Accepted once committed: a failure from here on is repaired by Republish().
  auto queued = sql_->QueuedJobs(ids);
  Status s = queued.ok() ? Publish(*queued, /*only_missing=*/false, nullptr) : queued.status();
  if (!s.ok()) {
    SEGHUB_LOG_WARN(
        "redis job queue: {} jobs of batch {} not published yet ({}); they will be "
        "republished",
        ids.size(), batch_id, s.ToString());
  }
  return ids;
}

Result<std::vector<ClaimedJob>> RedisJobQueue::Claim(const std::string& worker, int max_jobs,
                                                     std::chrono::milliseconds lease) {
  std::vector<ClaimedJob> out;
  if (max_jobs <= 0) return out;
  SEGHUB_ASSIGN_OR_RETURN(
      RedisReply r,
      redis_->CommandOk({"EVAL", kClaimScript, "0", options_.key_prefix, options_.group, worker,
                         std::to_string(max_jobs), std::to_string(sql_->NowMs()),
                         std::to_string(options_.reclaim_idle.count())}));
  Status first_error;
  for (size_t i = 0; i + 2 < r.elements.size(); i += 3) {
    Delivery d{r.elements[i].str, r.elements[i + 1].str, worker};
    const std::string& job_id = r.elements[i + 2].str;
    auto taken = Take(worker, d, job_id, lease);
    if (!taken.ok()) {
      // The entry stays pending; it is redelivered after reclaim_idle.
      if (first_error.ok()) first_error = taken.status();
      continue;
    }
    if (*taken) out.push_back(std::move(**taken));
  }
  if (out.empty() && !first_error.ok()) return first_error;
  return out;
}

Result<std::optional<ClaimedJob>> RedisJobQueue::Take(const std::string& worker, const Delivery& d,
                                                      const std::string& job_id,
                                                      std::chrono::milliseconds lease) {
  SEGHUB_ASSIGN_OR_RETURN(std::optional<ClaimedJob> job, sql_->ClaimById(job_id, worker, lease));
  if (job) {
    std::lock_guard<std::mutex> lock(mu_);
    deliveries_[job_id] = d;
    return job;
  }
  auto info = sql_->GetJob(job_id);
  if (!info.ok() && info.status().code() != StatusCode::kNotFound) return info.status();
  // Leased to a live worker (a duplicate, or its entry went idle): left pending for it; its
  // Complete acknowledges the entry. Anything else (finished, gone, or backing off after a
  // retry that Republish() will publish again) is dropped.
  if (info.ok() && info->status == kJobProcessing) return std::optional<ClaimedJob>();
  AcknowledgeEntry(job_id, d, -1);
  return std::optional<ClaimedJob>();
}

void RedisJobQueue::AcknowledgeEntry(const std::string& job_id, const Delivery& d,
                                     int64_t delay_until_ms) {
  const std::string due = delay_until_ms >= 0 ? std::to_string(delay_until_ms) : "";
  // The stream member is the key's tail after "<prefix>:s:".
  const std::string member = d.stream.substr(options_.key_prefix.size() + 3);
  auto r = redis_->CommandOk({"EVAL", kAckScript, "0", options_.key_prefix, options_.group,
                              d.stream, d.entry_id, job_id, due, member});
  if (!r.ok()) {
    // Harmless: the entry is redelivered after reclaim_idle and the SQL guard refuses it.
    SEGHUB_LOG_WARN("redis job queue: ack of job {} failed: {}", job_id, r.status().ToString());
  }
}

void RedisJobQueue::Acknowledge(const std::string& job_id, int64_t delay_until_ms) {
  Delivery d;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = deliveries_.find(job_id);
    if (it == deliveries_.end()) return;
    d = std::move(it->second);
    deliveries_.erase(it);
  }
  AcknowledgeEntry(job_id, d, delay_until_ms);
}

Status RedisJobQueue::RenewLease(const ClaimedJob& job, std::chrono::milliseconds lease) {
  SEGHUB_RETURN_IF_ERROR(sql_->RenewLease(job, lease));
  Delivery d;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = deliveries_.find(job.id);
    if (it == deliveries_.end()) return Status::Ok();
    d = it->second;
  }
  // Resets the entry's idle time, so XAUTOCLAIM leaves a live worker's long job alone.
  auto r =
      redis_->Command({"XCLAIM", d.stream, options_.group, d.worker, "0", d.entry_id, "JUSTID"});
  if (!r.ok() || r->is_error()) {
    SEGHUB_LOG_WARN("redis job queue: XCLAIM of job {} failed: {}", job.id,
                    r.ok() ? r->str : r.status().ToString());
  }
  return Status::Ok();  // the SQL lease is what guards the job
}

Status RedisJobQueue::Complete(const ClaimedJob& job,
                               const std::function<Status(storage::Connection&)>& write_result) {
  Status s = sql_->Complete(job, write_result);
  // Done, or no longer ours (cancelled, reclaimed): either way this delivery is over.
  if (s.ok() || s.code() == StatusCode::kAborted) Acknowledge(job.id);
  return s;
}

Status RedisJobQueue::Fail(const ClaimedJob& job, const Status& error, bool retryable) {
  Status s = sql_->Fail(job, error, retryable);
  if (s.code() == StatusCode::kAborted) Acknowledge(job.id);
  if (!s.ok()) return s;
  // Queued again with a backoff: park it in the delayed set until it is due.
  auto queued = sql_->QueuedJobs({job.id});
  const int64_t due = queued.ok() && !queued->empty() ? queued->front().available_at_ms : -1;
  Acknowledge(job.id, due);
  return s;
}

Result<std::vector<std::string>> RedisJobQueue::Cancel(const std::vector<std::string>& job_ids,
                                                       const std::string& user_id) {
  SEGHUB_ASSIGN_OR_RETURN(std::vector<std::string> ids, sql_->Cancel(job_ids, user_id));
  // Entries of queued jobs are dropped when delivered (the SQL claim refuses them).
  for (const std::string& id : ids) Acknowledge(id);
  return ids;
}

Result<std::vector<std::string>> RedisJobQueue::CancelProject(const std::string& project_id) {
  SEGHUB_ASSIGN_OR_RETURN(std::vector<std::string> ids, sql_->CancelProject(project_id));
  for (const std::string& id : ids) Acknowledge(id);
  return ids;
}

Result<int64_t> RedisJobQueue::RecoverAbandoned(bool all_processing) {
  SEGHUB_ASSIGN_OR_RETURN(int64_t recovered, sql_->RecoverAbandoned(all_processing));
  auto published = Republish();
  if (!published.ok()) {
    SEGHUB_LOG_WARN("redis job queue: republish failed: {}", published.status().ToString());
  } else if (*published > 0) {
    SEGHUB_LOG_INFO("redis job queue: republished {} queued jobs", *published);
  }
  return recovered;
}

Result<int64_t> RedisJobQueue::Republish() {
  if (options_.republish_grace.count() > 0) {
    // One scan per grace period across all workers: every worker's runner calls this.
    SEGHUB_ASSIGN_OR_RETURN(
        RedisReply lock,
        redis_->CommandOk({"SET", options_.key_prefix + ":republisher", "1", "NX", "PX",
                           std::to_string(options_.republish_grace.count())}));
    if (lock.is_nil()) return int64_t{0};
  }
  const int64_t updated_before = sql_->NowMs() - options_.republish_grace.count();
  int64_t published = 0;
  std::string after;
  for (;;) {
    SEGHUB_ASSIGN_OR_RETURN(std::vector<QueuedJobRef> page,
                            sql_->ListQueued(after, updated_before, options_.republish_page));
    if (page.empty()) break;
    SEGHUB_RETURN_IF_ERROR(Publish(page, /*only_missing=*/true, &published));
    after = page.back().id;
    if (static_cast<int>(page.size()) < options_.republish_page) break;
  }
  return published;
}

Result<JobInfo> RedisJobQueue::GetJob(const std::string& job_id) { return sql_->GetJob(job_id); }

Result<QueueCounts> RedisJobQueue::ProjectCounts(const std::string& project_id) {
  return sql_->ProjectCounts(project_id);
}

Result<QueueCounts> RedisJobQueue::GlobalCounts() { return sql_->GlobalCounts(); }

}  // namespace seghub::hub
