// SqlJobQueue over SQLite and PostgreSQL: batches, ordering, fairness, retries, cancellation,
// lease recovery and exactly-once completion under concurrent claimers.
#include "hub/sql_job_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "hub/schema.h"
#include "storage/migrations.h"
#include "support/database_fixture.h"

namespace seghub::hub {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class SqlJobQueueTest : public seghub::testing::DatabaseTest {
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
    queue_ = std::make_unique<SqlJobQueue>(db(), &clock_);
  }

  void AddImages(int n, const std::string& prefix = "img") {
    ASSERT_TRUE(db()->Transact([&](storage::Connection& c) -> Status {
                      for (int i = 0; i < n; ++i) {
                        SEGHUB_RETURN_IF_ERROR(
                            c.Execute("INSERT INTO images (id, project_id, name, blob_key, "
                                      "size_bytes, width, height, created_at, updated_at) "
                                      "VALUES (?, 'p1', 'n', 'blob', 1, 1, 1, 0, 0)",
                                      {prefix + std::to_string(i)})
                                .status());
                      }
                      return Status::Ok();
                    })
                    .ok());
  }
  JobSpec Spec(const std::string& image, const std::string& user = "ua", int priority = 0) {
    JobSpec s;
    s.image_id = image;
    s.project_id = "p1";
    s.user_id = user;
    s.model = "m";
    s.params = {{"threshold", nullptr}, {"detect_holes", true}};
    s.priority = priority;
    return s;
  }
  std::string ImageStatus(const std::string& id, std::string* error = nullptr) {
    auto r = db()->Query("SELECT status, error FROM images WHERE id = ?", {id});
    EXPECT_TRUE(r.ok() && !r->empty());
    if (error) *error = r->rows[0].Text(1);
    return r->rows[0].Text(0);
  }
  ClaimedJob ClaimOne() {
    auto c = queue_->Claim("w", 1, seconds(30));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(c->size(), 1u);
    return c->empty() ? ClaimedJob{} : c->front();
  }
  size_t Runnable() {
    auto counts = queue_->GlobalCounts();
    return counts.ok() ? counts->queued : 0;
  }

  ManualClock clock_;
  std::unique_ptr<SqlJobQueue> queue_;
};

TEST_P(SqlJobQueueTest, EnqueueSkipsImagesWithActiveJobsAndDuplicates) {
  AddImages(3);
  auto ids = queue_->EnqueueBatch("b1", {Spec("img0"), Spec("img1"), Spec("img0")});
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(ids->size(), 2u);
  EXPECT_EQ(ImageStatus("img0"), "queued");
  EXPECT_EQ(ImageStatus("img2"), "new");
  auto again = queue_->EnqueueBatch("b2", {Spec("img0"), Spec("img2"), Spec("missing")});
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 1u);
  auto job = queue_->GetJob(again->front());
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->image_id, "img2");
  EXPECT_EQ(job->batch_id, "b2");
  EXPECT_EQ(job->status, "queued");
  EXPECT_EQ(queue_->GetJob("nope").status().code(), StatusCode::kNotFound);
  auto counts = queue_->ProjectCounts("p1");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->queued, 3);
  // A bad spec fails the whole batch before anything is written.
  JobSpec bad = Spec("img1");
  bad.params = nlohmann::json::array();
  EXPECT_EQ(queue_->EnqueueBatch("b3", {bad}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(queue_->GlobalCounts()->total(), 3);
}

TEST_P(SqlJobQueueTest, ClaimsByPriorityThenAge) {
  AddImages(3);
  ASSERT_TRUE(queue_->EnqueueBatch("b", {Spec("img0", "ua", 0)}).ok());
  clock_.Advance(milliseconds(5));
  ASSERT_TRUE(queue_->EnqueueBatch("b", {Spec("img1", "ua", 10), Spec("img2", "ua", 5)}).ok());
  auto c = queue_->Claim("w", 10, seconds(30));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->size(), 3u);
  EXPECT_EQ((*c)[0].image_id, "img1");
  EXPECT_EQ((*c)[1].image_id, "img2");
  EXPECT_EQ((*c)[2].image_id, "img0");
  EXPECT_EQ((*c)[0].priority, 10);
  EXPECT_EQ((*c)[0].blob_key, "blob");
  EXPECT_EQ((*c)[0].params["detect_holes"], true);
  EXPECT_NE((*c)[0].claim_token, (*c)[1].claim_token);
  EXPECT_EQ(ImageStatus("img0"), "processing");
  EXPECT_TRUE(queue_->Claim("w", 10, seconds(30))->empty());
}

TEST_P(SqlJobQueueTest, RoundRobinAcrossUsers) {
  AddImages(40);
  std::vector<JobSpec> specs;
  for (int i = 0; i < 40; ++i) {
    specs.push_back(Spec("img" + std::to_string(i), i < 30 ? "ua" : (i < 35 ? "ub" : "uc")));
  }
  ASSERT_TRUE(queue_->EnqueueBatch("b", specs).ok());
  std::map<std::string, int> first_six;
  for (int i = 0; i < 6; ++i) ++first_six[ClaimOne().user_id];
  EXPECT_EQ(first_six, (std::map<std::string, int>{{"ua", 2}, {"ub", 2}, {"uc", 2}}));
  // Several per call follow the same rotation.
  auto c = queue_->Claim("w", 3, seconds(30));
  ASSERT_TRUE(c.ok());
  std::set<std::string> users;
  for (const ClaimedJob& j : *c) users.insert(j.user_id);
  EXPECT_EQ(users.size(), 3u);
}

TEST_P(SqlJobQueueTest, RetriesWithBackoffThenFails) {
  AddImages(1);
  ASSERT_TRUE(queue_->EnqueueBatch("b", {Spec("img0")}).ok());
  const milliseconds backoffs[] = {milliseconds(1000), milliseconds(4000)};
  for (int attempt = 0; attempt < 2; ++attempt) {
    ClaimedJob job = ClaimOne();
    EXPECT_EQ(job.attempts, attempt);
    ASSERT_TRUE(queue_->Fail(job, Unavailable("engine busy"), true).ok());
    EXPECT_EQ(ImageStatus("img0"), "queued");
    clock_.Advance(backoffs[attempt] - milliseconds(1));
    EXPECT_TRUE(queue_->Claim("w", 1, seconds(30))->empty());
    clock_.Advance(milliseconds(1));
  }
  ClaimedJob job = ClaimOne();
  ASSERT_TRUE(queue_->Fail(job, Unavailable("engine busy"), true).ok());
  auto info = queue_->GetJob(job.id);
  EXPECT_EQ(info->status, "failed");
  EXPECT_EQ(info->attempts, 3);
  EXPECT_EQ(info->error, "engine busy");
  EXPECT_TRUE(info->finished_at_ms.has_value());
  std::string error;
  EXPECT_EQ(ImageStatus("img0", &error), "failed");
  EXPECT_EQ(error, "engine busy");
  EXPECT_EQ(queue_->Fail(job, Internal("x"), true).code(), StatusCode::kAborted);
}

TEST_P(SqlJobQueueTest, NonRetryableFailsAtOnce) {
  AddImages(1);
  ASSERT_TRUE(queue_->EnqueueBatch("b", {Spec("img0")}).ok());
  ClaimedJob job = ClaimOne();
  ASSERT_TRUE(queue_->Fail(job, InvalidArgument("not an image"), false).ok());
  EXPECT_EQ(queue_->GetJob(job.id)->status, "failed");
  EXPECT_EQ(queue_->GetJob(job.id)->attempts, 1);
  std::string error;
  EXPECT_EQ(ImageStatus("img0", &error), "failed");
  EXPECT_EQ(error, "not an image");
  // A failed image may be queued again.
  EXPECT_EQ(queue_->EnqueueBatch("b2", {Spec("img0")})->size(), 1u);
}

TEST_P(SqlJobQueueTest, CancelsQueuedAndProcessing) {
  AddImages(3);
  auto ids = queue_->EnqueueBatch("b", {Spec("img0"), Spec("img1")});
  ASSERT_TRUE(ids.ok());
  ClaimedJob running = ClaimOne();
  auto other = queue_->EnqueueBatch("b2", {Spec("img2", "ub")});
  ASSERT_TRUE(other.ok());
  ids->push_back(other->front());
  // Another user's jobs are untouched.
  EXPECT_TRUE(queue_->Cancel(*ids, "uc")->empty());
  auto cancelled = queue_->Cancel({(*ids)[0], (*ids)[1]});
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->size(), 2u);
  EXPECT_EQ(queue_->RenewLease(running, seconds(30)).code(), StatusCode::kAborted);
  bool wrote = false;
  EXPECT_EQ(queue_
                ->Complete(running,
                           [&](storage::Connection&) {
                             wrote = true;
                             return Status::Ok();
                           })
                .code(),
            StatusCode::kAborted);
  EXPECT_FALSE(wrote);
  EXPECT_EQ(queue_->GetJob(running.id)->status, "cancelled");
  EXPECT_EQ(ImageStatus(running.image_id), "cancelled");
  EXPECT_TRUE(queue_->Cancel(*ids)->size() == 1u);  // only img2's is left
  EXPECT_TRUE(queue_->CancelProject("p1")->empty());
  auto counts = queue_->ProjectCounts("p1");
  EXPECT_EQ(counts->cancelled, 3);
  EXPECT_EQ(counts->queued + counts->processing, 0);
}

TEST_P(SqlJobQueueTest, CancelProjectCancelsEverythingActive) {
  AddImages(4);
  ASSERT_TRUE(queue_->EnqueueBatch("b", {Spec("img0"), Spec("img1"), Spec("img2")}).ok());
  ClaimOne();
  EXPECT_EQ(queue_->CancelProject("p1")->size(), 3u);
  EXPECT_EQ(queue_->ProjectCounts("p1")->cancelled, 3);
}

TEST_P(SqlJobQueueTest, ExpiredLeaseIsRecovered) {
  AddImages(1);
  ASSERT_TRUE(queue_->EnqueueBatch("b", {Spec("img0")}).ok());
  auto c = queue_->Claim("w", 1, seconds(10));
  ASSERT_EQ(c->size(), 1u);
  ClaimedJob old = c->front();
  clock_.Advance(seconds(5));
  EXPECT_TRUE(queue_->RenewLease(old, seconds(10)).ok());  // now until t = 15 s
  clock_.Advance(seconds(9));
  EXPECT_EQ(*queue_->RecoverAbandoned(false), 0);
  clock_.Advance(seconds(2));
  EXPECT_EQ(*queue_->RecoverAbandoned(false), 1);
  EXPECT_EQ(ImageStatus("img0"), "queued");
  EXPECT_EQ(queue_->GetJob(old.id)->attempts, 1);
  ClaimedJob again = ClaimOne();
  EXPECT_EQ(again.id, old.id);
  EXPECT_EQ(queue_->Complete(old, nullptr).code(), StatusCode::kAborted);
  EXPECT_TRUE(queue_->Complete(again, nullptr).ok());
  EXPECT_EQ(queue_->GetJob(old.id)->status, "done");
}

TEST_P(SqlJobQueueTest, ExclusiveRecoveryRequeuesAllProcessing) {
  AddImages(2);
  ASSERT_TRUE(queue_->EnqueueBatch("b", {Spec("img0"), Spec("img1")}).ok());
  ASSERT_EQ(queue_->Claim("w", 2, seconds(30))->size(), 2u);
  EXPECT_EQ(*queue_->RecoverAbandoned(false), 0);
  EXPECT_EQ(*queue_->RecoverAbandoned(true), 2);
  auto counts = queue_->GlobalCounts();
  EXPECT_EQ(counts->queued, 2);
  EXPECT_EQ(counts->processing, 0);
  EXPECT_EQ(ClaimOne().attempts, 0);  // a restart does not count as a failed attempt
}

TEST_P(SqlJobQueueTest, ConcurrentClaimersCompleteEachJobExactlyOnce) {
  constexpr int kJobs = 200;
  AddImages(kJobs);
  ASSERT_TRUE(db()->Execute("CREATE TABLE writes (job_id TEXT NOT NULL)").ok());
  std::vector<JobSpec> specs;
  for (int i = 0; i < kJobs; ++i) {
    specs.push_back(Spec("img" + std::to_string(i), i % 3 == 0 ? "ua" : "ub"));
  }
  ASSERT_TRUE(queue_->EnqueueBatch("b", specs).ok());
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      SqlJobQueue queue(db(), &clock_);  // each worker its own claimer
      for (;;) {
        auto c = queue.Claim("w" + std::to_string(t), 3, seconds(30));
        if (!c.ok()) ++errors;
        if (!c.ok() || c->empty()) break;
        for (const ClaimedJob& job : *c) {
          Status s = queue.Complete(job, [&](storage::Connection& conn) {
            return conn.Execute("INSERT INTO writes (job_id) VALUES (?)", {job.id}).status();
          });
          if (!s.ok()) ++errors;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  auto r = db()->Query("SELECT COUNT(*), COUNT(DISTINCT job_id) FROM writes");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].Int(0), kJobs);
  EXPECT_EQ(r->rows[0].Int(1), kJobs);
  EXPECT_EQ(queue_->GlobalCounts()->done, kJobs);
}

SEGHUB_INSTANTIATE_DATABASE_TEST(SqlJobQueueTest);

}  // namespace
}  // namespace seghub::hub
