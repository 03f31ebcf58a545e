// RedisJobQueue over SQLite and PostgreSQL with a real redis-server: exactly-once completion by
// concurrent workers, fairness and priorities across workers, reclaiming a dead worker's jobs,
// Redis restarts (with and without its data) and Redis outages.
#include "hub/redis_job_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "hub/ids.h"
#include "hub/schema.h"
#include "storage/migrations.h"
#include "support/database_fixture.h"
#include "support/redis_server.h"

namespace seghub::hub {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::RedisServer;

// One worker process: its own Redis connection and queue objects over the shared database.
struct Worker {
  std::string name;
  std::unique_ptr<storage::RedisClient> redis;
  std::unique_ptr<SqlJobQueue> sql;
  std::unique_ptr<RedisJobQueue> queue;
};

class RedisJobQueueTest : public seghub::testing::DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    ASSERT_TRUE(storage::Migrate(*db(), HubMigrations()).ok());
    for (const char* u : {"ua", "ub", "uc"}) {
      ASSERT_TRUE(db()->Execute("INSERT INTO users (id, email, name, password_hash, created_at) "
                                "VALUES (?, ?, ?, 'x', 0)",
                                {std::string(u), std::string(u) + "@x", std::string(u)})
                      .ok());
    }
    ASSERT_TRUE(db()->Execute("INSERT INTO projects (id, owner_id, name, created_at, updated_at) "
                              "VALUES ('p1', 'ua', 'p', 0, 0)")
                    .ok());
    ASSERT_TRUE(db()->Execute("CREATE TABLE test_results (job_id TEXT NOT NULL)").ok());
    options_.key_prefix = "test:" + NewId();  // tests share the server: disjoint keys
    options_.republish_grace = milliseconds(0);
  }

  // Tests 1-3 share the process-wide server; the restart tests start their own.
  std::string SharedUrl() {
    auto server = testing::SharedRedis();
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    return server.ok() ? (*server)->url() : "redis://127.0.0.1:1";
  }

  std::unique_ptr<Worker> MakeWorker(const std::string& url, const std::string& name) {
    auto w = std::make_unique<Worker>();
    w->name = name;
    storage::RedisClientOptions ro;
    ro.reconnect_min = milliseconds(10);  // tests wait for the server to come back quickly
    ro.reconnect_max = milliseconds(100);
    auto client = storage::RedisClient::Connect(url, ro);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    if (!client.ok()) return nullptr;
    w->redis = std::move(client).value();
    w->sql = std::make_unique<SqlJobQueue>(db(), SystemClock::Get(), sql_options_);
    w->queue = std::make_unique<RedisJobQueue>(w->sql.get(), w->redis.get(), options_);
    return w;
  }

  // Images img<first>..img<first+n-1> and one job each for `user`.
  std::vector<std::string> Enqueue(RedisJobQueue& q, int first, int n, const std::string& user,
                                   int priority = 0) {
    Status s = db()->Transact([&](storage::Connection& c) -> Status {
      for (int i = first; i < first + n; ++i) {
        SEGHUB_RETURN_IF_ERROR(c.Execute("INSERT INTO images (id, project_id, name, blob_key, "
                                         "size_bytes, width, height, created_at, updated_at) "
                                         "VALUES (?, 'p1', 'n', 'blob', 1, 1, 1, 0, 0)",
                                         {"img" + std::to_string(i)})
                                   .status());
      }
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<JobSpec> specs;
    for (int i = first; i < first + n; ++i) {
      JobSpec spec;
      spec.image_id = "img" + std::to_string(i);
      spec.project_id = "p1";
      spec.user_id = user;
      spec.priority = priority;
      specs.push_back(spec);
    }
    auto ids = q.EnqueueBatch("b", specs);
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    return ids.ok() ? *ids : std::vector<std::string>{};
  }

  static Status Record(storage::Connection& c, const std::string& job_id) {
    return c.Execute("INSERT INTO test_results (job_id) VALUES (?)", {job_id}).status();
  }

  // Workers claim and complete until nothing is active (or 60 s pass). With `recover` each also
  // runs RecoverAbandoned now and then, as the JobRunner does.
  void Drain(const std::vector<Worker*>& workers, bool recover = false) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (Worker* w : workers) {
      threads.emplace_back([&, w] {
        auto next_recover = std::chrono::steady_clock::now();
        while (!stop) {
          if (recover && std::chrono::steady_clock::now() >= next_recover) {
            (void)w->queue->RecoverAbandoned(false);
            next_recover = std::chrono::steady_clock::now() + milliseconds(100);
          }
          auto jobs = w->queue->Claim(w->name, 4, seconds(10));
          if (!jobs.ok() || jobs->empty()) {
            std::this_thread::sleep_for(milliseconds(10));
            continue;
          }
          for (const ClaimedJob& job : *jobs) {
            Status s =
                w->queue->Complete(job, [&](storage::Connection& c) { return Record(c, job.id); });
            EXPECT_TRUE(s.ok()) << s.ToString();
          }
        }
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      auto counts = workers[0]->queue->GlobalCounts();
      if (counts.ok() && counts->active() == 0) break;
      std::this_thread::sleep_for(milliseconds(20));
    }
    stop = true;
    for (std::thread& t : threads) t.join();
  }

  // Every job of `ids` is done and its result was written exactly once.
  void ExpectDoneOnce(const std::vector<std::string>& ids) {
    auto r = db()->Query("SELECT job_id, COUNT(*) FROM test_results GROUP BY job_id");
    ASSERT_TRUE(r.ok());
    std::map<std::string, int64_t> writes;
    for (const storage::Row& row : r->rows) writes[row.Text(0)] = row.Int(1);
    for (const std::string& id : ids) {
      EXPECT_EQ(writes[id], 1) << id;
      auto job = db()->Query("SELECT status FROM jobs WHERE id = ?", {id});
      ASSERT_TRUE(job.ok() && !job->empty());
      EXPECT_EQ(job->rows[0].Text(0), kJobDone) << id;
    }
  }

  // No delivered-but-unacknowledged entry, and no entry left, in the user's stream.
  void ExpectStreamDrained(Worker& w, const std::string& user, int priority = 0) {
    const std::string key = w.queue->StreamKey(user, priority);
    auto pending = w.redis->CommandOk({"XPENDING", key, options_.group});
    ASSERT_TRUE(pending.ok()) << pending.status().ToString();
    ASSERT_TRUE(pending->is_array() && !pending->elements.empty());
    EXPECT_EQ(pending->elements[0].integer, 0) << key;
    auto len = w.redis->CommandOk({"XLEN", key});
    ASSERT_TRUE(len.ok());
    EXPECT_EQ(len->integer, 0) << key;
  }

  std::string ClaimUser(Worker& w) {
    auto jobs = w.queue->Claim(w.name, 1, seconds(30));
    EXPECT_TRUE(jobs.ok()) << jobs.status().ToString();
    if (!jobs.ok() || jobs->empty()) return "";
    return jobs->front().user_id;
  }

  RedisJobQueueOptions options_;
  SqlJobQueueOptions sql_options_;
};

TEST_P(RedisJobQueueTest, ThreeWorkersCompleteEveryJobOnce) {
  const std::string url = SharedUrl();
  auto w1 = MakeWorker(url, "w1"), w2 = MakeWorker(url, "w2"), w3 = MakeWorker(url, "w3");
  ASSERT_TRUE(w1 && w2 && w3);
  std::vector<std::string> ids;
  const char* users[] = {"ua", "ub", "uc"};
  for (int u = 0; u < 3; ++u) {
    for (const std::string& id : Enqueue(*w1->queue, u * 100, 100, users[u])) ids.push_back(id);
  }
  ASSERT_EQ(ids.size(), 300u);
  Drain({w1.get(), w2.get(), w3.get()});
  ExpectDoneOnce(ids);
  for (const char* u : users) ExpectStreamDrained(*w1, u);
}

TEST_P(RedisJobQueueTest, FairAcrossWorkersAndPriorityFirst) {
  const std::string url = SharedUrl();
  auto w1 = MakeWorker(url, "w1"), w2 = MakeWorker(url, "w2");
  ASSERT_TRUE(w1 && w2);
  Enqueue(*w1->queue, 0, 60, "ua");
  Enqueue(*w1->queue, 100, 5, "ub");
  Enqueue(*w1->queue, 200, 5, "uc");
  std::vector<std::string> order;
  for (int i = 0; i < 9; ++i) order.push_back(ClaimUser(i % 2 == 0 ? *w1 : *w2));
  // Round robin across both workers: every user is served within the first three claims, and
  // the small users are not stuck behind ua's 60 jobs.
  std::set<std::string> first_three(order.begin(), order.begin() + 3);
  EXPECT_EQ(first_three, (std::set<std::string>{"ua", "ub", "uc"}));
  EXPECT_EQ(std::count(order.begin(), order.end(), "ua"), 3);

  // A priority-9 job enqueued after the backlog is claimed next, by either worker.
  Enqueue(*w1->queue, 300, 50, "ua");
  const std::vector<std::string> urgent = Enqueue(*w2->queue, 400, 1, "ub", /*priority=*/9);
  ASSERT_EQ(urgent.size(), 1u);
  auto next = w2->queue->Claim("w2", 1, seconds(30));
  ASSERT_TRUE(next.ok() && next->size() == 1u);
  EXPECT_EQ(next->front().id, urgent[0]);
  EXPECT_EQ(next->front().priority, 9);
}

TEST_P(RedisJobQueueTest, DeadWorkersJobsAreReclaimed) {
  const std::string url = SharedUrl();
  options_.reclaim_idle = milliseconds(300);
  auto dead = MakeWorker(url, "dead"), alive = MakeWorker(url, "alive");
  ASSERT_TRUE(dead && alive);
  const std::vector<std::string> ids = Enqueue(*alive->queue, 0, 5, "ua");
  auto held = dead->queue->Claim("dead", 5, milliseconds(200));
  ASSERT_TRUE(held.ok() && held->size() == 5u);
  // Neither idle in Redis nor expired in SQL yet: nobody else gets them.
  auto none = alive->queue->Claim("alive", 5, seconds(10));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  std::this_thread::sleep_for(milliseconds(400));
  Drain({alive.get()});
  ExpectDoneOnce(ids);
  ExpectStreamDrained(*alive, "ua");
  for (const std::string& id : ids) {
    auto job = alive->queue->GetJob(id);
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(job->attempts, 1) << "the dead worker's attempt counts";
  }
  // The dead worker's late completion cannot commit a second result.
  EXPECT_EQ(dead->queue->Complete(held->front(), nullptr).code(), StatusCode::kAborted);
}

TEST_P(RedisJobQueueTest, RedisRestartLosesNoJob) {
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto w1 = MakeWorker((*server)->url(), "w1"), w2 = MakeWorker((*server)->url(), "w2");
  ASSERT_TRUE(w1 && w2);
  std::vector<std::string> ids = Enqueue(*w1->queue, 0, 40, "ua");
  for (const std::string& id : Enqueue(*w1->queue, 100, 40, "ub")) ids.push_back(id);
  // Some work is done, then Redis restarts with its AOF: streams and groups survive.
  auto first = w1->queue->Claim("w1", 10, seconds(10));
  ASSERT_TRUE(first.ok() && first->size() == 10u);
  for (const ClaimedJob& job : *first) {
    ASSERT_TRUE(
        w1->queue->Complete(job, [&](storage::Connection& c) { return Record(c, job.id); }).ok());
  }
  ASSERT_TRUE((*server)->Restart().ok());
  Drain({w1.get(), w2.get()});  // no republishing needed
  ExpectDoneOnce(ids);
  ExpectStreamDrained(*w1, "ua");
  ExpectStreamDrained(*w1, "ub");
}

TEST_P(RedisJobQueueTest, RedisLosingItsDataIsRepairedFromSql) {
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto w1 = MakeWorker((*server)->url(), "w1"), w2 = MakeWorker((*server)->url(), "w2");
  ASSERT_TRUE(w1 && w2);
  const std::vector<std::string> ids = Enqueue(*w1->queue, 0, 60, "ua");
  // w1 holds 5 jobs under a short lease when Redis crashes and comes back empty.
  auto held = w1->queue->Claim("w1", 5, milliseconds(200));
  ASSERT_TRUE(held.ok() && held->size() == 5u);
  ASSERT_TRUE((*server)->Kill().ok());
  ASSERT_TRUE((*server)->WipeData().ok());
  ASSERT_TRUE((*server)->Relaunch().ok());
  // Nothing to deliver until the reconciler republishes from SQL; the held jobs come back once
  // their leases expire.
  Drain({w1.get(), w2.get()}, /*recover=*/true);
  ExpectDoneOnce(ids);
  ExpectStreamDrained(*w2, "ua");
}

TEST_P(RedisJobQueueTest, RedisDownAcceptsJobsAndRunsThemLater) {
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto w1 = MakeWorker((*server)->url(), "w1");
  ASSERT_TRUE(w1);
  ASSERT_TRUE((*server)->Kill().ok());
  const std::vector<std::string> ids = Enqueue(*w1->queue, 0, 20, "ua");  // accepted in SQL
  ASSERT_EQ(ids.size(), 20u);
  auto claim = w1->queue->Claim("w1", 5, seconds(10));
  EXPECT_EQ(claim.status().code(), StatusCode::kUnavailable);
  auto recovered = w1->queue->RecoverAbandoned(false);  // SQL works; republish fails quietly
  EXPECT_TRUE(recovered.ok()) << recovered.status().ToString();
  ASSERT_TRUE((*server)->Relaunch().ok());
  Drain({w1.get()}, /*recover=*/true);
  ExpectDoneOnce(ids);
  ExpectStreamDrained(*w1, "ua");
}

TEST_P(RedisJobQueueTest, RetriesWaitTheirBackoffAndCancelledJobsAreDropped) {
  const std::string url = SharedUrl();
  sql_options_.backoff_base = milliseconds(300);
  auto w = MakeWorker(url, "w");
  ASSERT_TRUE(w);
  const std::vector<std::string> ids = Enqueue(*w->queue, 0, 3, "ua");
  ASSERT_EQ(ids.size(), 3u);
  ASSERT_EQ(w->queue->Cancel({ids[2]}).value().size(), 1u);  // queued: its entry is dropped later
  auto first = w->queue->Claim("w", 1, seconds(10));
  ASSERT_TRUE(first.ok() && first->size() == 1u);
  ASSERT_EQ(first->front().id, ids[0]);
  ASSERT_TRUE(w->queue->Fail(first->front(), Internal("flaky"), /*retryable=*/true).ok());
  // Backing off: only the other job comes out; the cancelled one is acknowledged and skipped.
  auto second = w->queue->Claim("w", 5, seconds(10));
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ(second->front().id, ids[1]);
  ASSERT_TRUE(w->queue->Fail(second->front(), InvalidArgument("bad image"), false).ok());
  std::this_thread::sleep_for(milliseconds(400));
  auto retry = w->queue->Claim("w", 5, seconds(10));
  ASSERT_TRUE(retry.ok());
  ASSERT_EQ(retry->size(), 1u);
  EXPECT_EQ(retry->front().id, ids[0]);
  EXPECT_EQ(retry->front().attempts, 1);
  ASSERT_TRUE(w->queue->Complete(retry->front(), nullptr).ok());
  EXPECT_EQ(w->queue->GetJob(ids[1])->status, kJobFailed);
  EXPECT_EQ(w->queue->GetJob(ids[2])->status, kJobCancelled);
  ExpectStreamDrained(*w, "ua");
  auto delayed = w->redis->CommandOk({"ZCARD", options_.key_prefix + ":delayed"});
  auto published = w->redis->CommandOk({"SCARD", options_.key_prefix + ":published"});
  ASSERT_TRUE(delayed.ok() && published.ok());
  EXPECT_EQ(delayed->integer, 0);
  EXPECT_EQ(published->integer, 0);
}

SEGHUB_INSTANTIATE_DATABASE_TEST(RedisJobQueueTest);

}  // namespace
}  // namespace seghub::hub
