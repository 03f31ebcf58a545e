// JobRunner over SQLite and PostgreSQL with a real Engine (deterministic test backend),
// SegmentService and BlobStore: jobs end done with a segmentation each, repeats come from the
// result cache, bad images fail without retries, cancelled jobs never run.
#include "hub/job_runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "engine/test_backend.h"
#include "hub/schema.h"
#include "hub/sql_job_queue.h"
#include "storage/migrations.h"
#include "support/database_fixture.h"

namespace seghub::hub {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A dark disc on a bright background; `i` moves it so every image has distinct bytes.
std::string DiscPng(int i) {
  cv::Mat m(96, 128, CV_8UC1, cv::Scalar(200));
  cv::circle(m, {40 + i * 2, 48}, 20, cv::Scalar(40), cv::FILLED);
  std::vector<uint8_t> buf;
  cv::imencode(".png", m, buf);
  return std::string(buf.begin(), buf.end());
}

class JobRunnerTest : public seghub::testing::DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');  // "Test/Sqlite"
    root_ = std::filesystem::temp_directory_path() /
            ("seghub_job_runner_test_" + std::to_string(::getpid()) + "_" + name);
    std::filesystem::remove_all(root_);
    AddModel("stretch", 0);
    AddModel("slow", 400000);  // 0.4 s per batch: long enough to cancel a running job
    backends_.Register(engine::MakeTestBackend());
    engine::EngineOptions eo;
    eo.model_dir = root_ / "models";
    eo.cpu_threads = 2;
    eo.warmup = false;
    auto e = engine::Engine::Create(eo, &backends_, &registry_);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    engine_->Start();
    ASSERT_TRUE(engine_->WaitReady(seconds(10)));
    pipeline::SegmentServiceOptions so;
    so.default_model = "stretch";
    so.threads = 2;
    so.registry = &registry_;
    segmenter_ = std::make_unique<pipeline::SegmentService>(engine_.get(), so);

    ASSERT_TRUE(storage::Migrate(*db(), HubMigrations()).ok());
    for (const char* u : {"ua", "ub"}) {
      ASSERT_TRUE(db()->Execute("INSERT INTO users (id, email, name, password_hash, created_at) "
                                "VALUES (?, ?, ?, 'x', 0)",
                                {std::string(u), std::string(u) + "@x", std::string(u)})
                      .ok());
    }
    ASSERT_TRUE(db()->Execute("INSERT INTO projects (id, owner_id, name, created_at, updated_at) "
                              "VALUES ('p1', 'ua', 'p', 0, 0)")
                    .ok());
    auto blobs = storage::BlobStore::Open(root_ / "blobs");
    ASSERT_TRUE(blobs.ok());
    blobs_ = std::move(blobs).value();
    queue_ = std::make_unique<SqlJobQueue>(db(), SystemClock::Get());
    listener_ = events_.Subscribe([this](const HubEvent& e) {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(e);
    });
  }
  void TearDown() override {
    if (runner_) runner_->Stop();
    runner_.reset();
    events_.Unsubscribe(listener_);
    if (segmenter_) segmenter_->Shutdown();
    if (engine_) engine_->Shutdown();
    std::filesystem::remove_all(root_);
    DatabaseTest::TearDown();
  }

  void AddModel(const std::string& name, int64_t delay_us) {
    std::filesystem::create_directories(root_ / "models" / name);
    std::ofstream(root_ / "models" / name / "model.json")
        << R"({"backend": "test", "architecture": "affine",
               "arch_params": {"scale": -1.0, "offset": 0.0, "delay_us": )"
        << delay_us << R"(},
               "input": {"channels": 3, "size": [64, 64], "resize": "stretch",
                         "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}})";
  }
  JobRunner& MakeRunner() {
    JobRunnerOptions o;
    o.worker_id = "w1";
    o.max_in_flight = 4;
    o.poll_interval = milliseconds(50);
    runner_ = std::make_unique<JobRunner>(queue_.get(), db(), blobs_.get(), segmenter_.get(),
                                          &events_, SystemClock::Get(), o);
    return *runner_;
  }
  void AddImage(const std::string& id, const std::string& bytes) {
    auto key = blobs_->Put(bytes);
    ASSERT_TRUE(key.ok());
    ASSERT_TRUE(db()->Execute("INSERT INTO images (id, project_id, name, blob_key, size_bytes, "
                              "width, height, created_at, updated_at) "
                              "VALUES (?, 'p1', 'n', ?, 1, 128, 96, 0, 0)",
                              {id, *key})
                    .ok());
  }
  JobSpec Spec(const std::string& image, const std::string& user) {
    JobSpec s;
    s.image_id = image;
    s.project_id = "p1";
    s.user_id = user;
    s.model = "stretch";
    s.params = {{"threshold", nullptr}, {"detect_holes", true}};
    return s;
  }
  // Waits until the project has no queued or processing job and the final stats were sent.
  bool WaitDrained() {
    for (int i = 0; i < 400; ++i) {
      auto c = queue_->ProjectCounts("p1");
      if (c.ok() && c->active() == 0) {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto it = seen_.rbegin(); it != seen_.rend(); ++it) {
          if (it->name != "queueStats") continue;
          if (it->data["queued"] == 0 && it->data["processing"] == 0) return true;
          break;
        }
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }
  int CountEvents(const std::string& name, const std::string& status = "") {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const HubEvent& e : seen_) {
      if (e.name == name && (status.empty() || e.data.value("status", "") == status)) ++n;
    }
    return n;
  }
  int64_t Scalar(const std::string& sql, const storage::SqlParams& params = {}) {
    auto r = db()->Query(sql, params);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && !r->empty() ? r->rows[0].Int(0) : -1;
  }

  std::filesystem::path root_;
  engine::BackendRegistry backends_;
  metrics::Registry registry_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<pipeline::SegmentService> segmenter_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<SqlJobQueue> queue_;
  EventBus events_;
  int listener_ = 0;
  std::unique_ptr<JobRunner> runner_;
  std::mutex mu_;
  std::vector<HubEvent> seen_;  // guarded by mu_
};

TEST_P(JobRunnerTest, RunsEveryJobThenAnswersRepeatsFromTheCache) {
  std::vector<JobSpec> specs;
  for (int i = 0; i < 20; ++i) {
    AddImage("img" + std::to_string(i), DiscPng(i));
    specs.push_back(Spec("img" + std::to_string(i), i % 2 ? "ua" : "ub"));
  }
  JobRunner& runner = MakeRunner();
  ASSERT_TRUE(runner.Start().ok());
  ASSERT_EQ(queue_->EnqueueBatch("b1", specs)->size(), 20u);
  runner.Wake();
  ASSERT_TRUE(WaitDrained());
  EXPECT_EQ(queue_->ProjectCounts("p1")->done, 20);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM segmentations WHERE source = 'model' AND version = 1 "
                   "AND polygon_count = 1"),
            20);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM images WHERE status = 'done'"), 20);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM result_cache"), 20);
  EXPECT_EQ(CountEvents("segmentation-update", "processing"), 20);
  EXPECT_EQ(CountEvents("segmentation-update", "done"), 20);
  EXPECT_EQ(CountEvents("notification"), 20);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const HubEvent& e : seen_) {
      EXPECT_EQ(e.project_id, "p1");
      EXPECT_FALSE(e.user_id.empty());
      if (e.name == "notification") {
        EXPECT_EQ(e.data["type"], "segmentation-complete");
        EXPECT_EQ(e.data["polygonCount"], 1);
      }
    }
  }
  auto first = runner.stats();
  EXPECT_EQ(first.segmented, 20);
  EXPECT_EQ(first.cache_hits, 0);

  // Same bytes, model and params again: no inference, a second version each.
  ASSERT_EQ(queue_->EnqueueBatch("b2", specs)->size(), 20u);
  runner.Wake();
  ASSERT_TRUE(WaitDrained());
  auto second = runner.stats();
  EXPECT_EQ(second.segmented, 20);
  EXPECT_EQ(second.cache_hits, 20);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM segmentations WHERE version = 2"), 20);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM result_cache"), 20);
}

TEST_P(JobRunnerTest, CorruptImageFailsWithoutRetry) {
  AddImage("bad", "this is not an image");
  JobRunner& runner = MakeRunner();
  ASSERT_TRUE(runner.Start().ok());
  auto ids = queue_->EnqueueBatch("b", {Spec("bad", "ua")});
  ASSERT_TRUE(ids.ok());
  runner.Wake();
  ASSERT_TRUE(WaitDrained());
  auto job = queue_->GetJob(ids->front());
  EXPECT_EQ(job->status, "failed");
  EXPECT_EQ(job->attempts, 1);
  auto r = db()->Query("SELECT status, error FROM images WHERE id = 'bad'");
  EXPECT_EQ(r->rows[0].Text(0), "failed");
  EXPECT_FALSE(r->rows[0].Text(1).empty());
  EXPECT_EQ(CountEvents("segmentation-update", "failed"), 1);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM segmentations"), 0);
}

TEST_P(JobRunnerTest, CancelledWhileQueuedNeverRuns) {
  AddImage("img0", DiscPng(0));
  AddImage("img1", DiscPng(1));
  JobRunner& runner = MakeRunner();
  auto ids = queue_->EnqueueBatch("b", {Spec("img0", "ua"), Spec("img1", "ub")});
  ASSERT_TRUE(ids.ok());
  auto cancelled = runner.CancelJobs({ids->front()}, "ua");
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->size(), 1u);
  EXPECT_EQ(CountEvents("segmentation-update", "cancelled"), 1);
  ASSERT_TRUE(runner.Start().ok());
  ASSERT_TRUE(WaitDrained());
  EXPECT_EQ(queue_->GetJob((*ids)[0])->status, "cancelled");
  EXPECT_EQ(queue_->GetJob((*ids)[1])->status, "done");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM segmentations WHERE image_id = 'img0'"), 0);
  EXPECT_EQ(runner.stats().claimed, 1);
}

// Cancelled while the engine runs it: whatever the engine returns, nothing is committed.
TEST_P(JobRunnerTest, CancelledWhileProcessingCommitsNothing) {
  AddImage("img0", DiscPng(0));
  AddImage("img1", DiscPng(1));
  JobSpec slow0 = Spec("img0", "ua"), slow1 = Spec("img1", "ua");
  slow0.model = slow1.model = "slow";
  auto ids = queue_->EnqueueBatch("b", {slow0, slow1});
  ASSERT_TRUE(ids.ok());
  JobRunner& runner = MakeRunner();
  ASSERT_TRUE(runner.Start().ok());
  for (int i = 0; i < 200 && runner.in_flight() < 2; ++i) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_EQ(runner.in_flight(), 2);
  // One through the runner (local cancel at once), one as another process would (the queue
  // only; the runner's Complete then finds the claim gone).
  EXPECT_EQ(runner.CancelJobs({(*ids)[0]}, "")->size(), 1u);
  EXPECT_EQ(queue_->Cancel({(*ids)[1]})->size(), 1u);
  ASSERT_TRUE(WaitDrained());
  for (int i = 0; i < 200 && runner.in_flight() > 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(runner.in_flight(), 0);
  EXPECT_EQ(queue_->GetJob((*ids)[0])->status, "cancelled");
  EXPECT_EQ(queue_->GetJob((*ids)[1])->status, "cancelled");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM segmentations"), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM images WHERE status = 'cancelled'"), 2);
  EXPECT_EQ(CountEvents("segmentation-update", "done"), 0);
}

TEST_P(JobRunnerTest, StopLeavesUnfinishedJobsForRecovery) {
  for (int i = 0; i < 6; ++i) AddImage("img" + std::to_string(i), DiscPng(i));
  std::vector<JobSpec> specs;
  for (int i = 0; i < 6; ++i) specs.push_back(Spec("img" + std::to_string(i), "ua"));
  ASSERT_TRUE(queue_->EnqueueBatch("b", specs).ok());
  JobRunner& runner = MakeRunner();
  ASSERT_TRUE(runner.Start().ok());
  runner.Stop();
  EXPECT_EQ(runner.in_flight(), 0);
  auto counts = queue_->ProjectCounts("p1");
  EXPECT_EQ(counts->done + counts->processing + counts->queued, 6);  // nothing lost or failed
  // A new exclusive runner picks everything up.
  runner_.reset();
  JobRunner& again = MakeRunner();
  ASSERT_TRUE(again.Start().ok());
  ASSERT_TRUE(WaitDrained());
  EXPECT_EQ(queue_->ProjectCounts("p1")->done, 6);
}

SEGHUB_INSTANTIATE_DATABASE_TEST(JobRunnerTest);

// A job's stored params become the request; wrong types are ignored (the API validated them).
TEST(SegmentRequestFromParamsTest, ReadsEveryField) {
  pipeline::SegmentRequest r = SegmentRequestFromParams(nlohmann::json::parse(
      R"({"threshold": 0.3, "detect_holes": false, "min_area": 12, "um_per_px": 0.5,
          "scale": 2.5})"));
  EXPECT_FLOAT_EQ(*r.threshold, 0.3f);
  EXPECT_FALSE(r.detect_holes);
  EXPECT_DOUBLE_EQ(*r.min_area, 12);
  EXPECT_DOUBLE_EQ(r.um_per_px, 0.5);
  ASSERT_TRUE(r.scale.has_value());
  EXPECT_DOUBLE_EQ(*r.scale, 2.5);
  pipeline::SegmentRequest none =
      SegmentRequestFromParams(nlohmann::json::parse(R"({"threshold": null, "scale": "2"})"));
  EXPECT_FALSE(none.threshold.has_value());
  EXPECT_FALSE(none.scale.has_value());
  EXPECT_TRUE(none.detect_holes);
}

}  // namespace
}  // namespace seghub::hub
