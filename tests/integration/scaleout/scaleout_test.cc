// Scale-out through real processes: a real PostgreSQL and Redis, one API (`seghub serve --db
// --queue`) and three workers (`seghub worker`). 8 users submit 500 jobs; one worker is killed
// with SIGKILL mid-batch and Redis is restarted during the run. Every job must complete exactly
// once in effect, the dead worker's jobs must finish on the others, and fairness must hold.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "hub_test_env.h"
#include "support/postgres_server.h"
#include "support/redis_server.h"

namespace seghub::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::seconds;

class ScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("seghub_scaleout_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    // 25 ms of simulated compute per image keeps every worker busy for a few seconds.
    WriteTestModel(dir_ / "models", "slow", 25000);
    db_url_ = DbUrlFor(DbKind::kPostgres);
    ASSERT_FALSE(db_url_.empty());
    auto redis = RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status().ToString();
    redis_ = std::move(redis).value();
    api_ = std::make_unique<HubServer>(
        dir_, db_url_,
        std::vector<std::string>{"--queue", redis_->url(), "--no-rate-limit", "--blob-secret-file",
                                 (dir_ / "blob.secret").string()});
    Status s = api_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << api_->Output();
  }
  void TearDown() override {
    workers_.clear();
    api_.reset();
    redis_.reset();
    fs::remove_all(dir_);
  }
  std::unique_ptr<ServerProcess> StartWorker(const std::string& id) {
    auto p =
        ServerProcess::Start(SEGHUB_BINARY, {"worker",
                                             "--db",
                                             db_url_,
                                             "--queue",
                                             redis_->url(),
                                             "--models",
                                             (dir_ / "models").string(),
                                             "--api-url",
                                             "http://127.0.0.1:" + std::to_string(api_->port()),
                                             "--blob-secret-file",
                                             (dir_ / "blob.secret").string(),
                                             "--data",
                                             (dir_ / ("w_" + id)).string(),
                                             "--port",
                                             "0",
                                             "--worker-id",
                                             id,
                                             "--threads",
                                             "1",
                                             "--lease",
                                             "3",
                                             "--reclaim-idle",
                                             "4",
                                             "--max-in-flight",
                                             "8"});
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return nullptr;
    auto port = (*p)->WaitForPort(seconds(60));
    EXPECT_TRUE(port.ok()) << port.status().ToString() << "\n" << (*p)->Output();
    worker_ports_.push_back(port.ok() ? *port : 0);
    return std::move(p).value();
  }

  fs::path dir_;
  std::string db_url_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<HubServer> api_;
  std::vector<std::unique_ptr<ServerProcess>> workers_;
  std::vector<uint16_t> worker_ports_;
};

// Polls GET /ready on `port` until it answers `status` (or the timeout).
bool WaitReady(uint16_t port, int status, seconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    Result<HttpReply> r = Fetch("127.0.0.1", port, "GET", "/ready");
    if (r.ok() && r->status == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

TEST_F(ScaleOutTest, ReadinessFollowsRedisAndRecoversByItself) {
  workers_.push_back(StartWorker("probe"));
  ASSERT_NE(workers_.back(), nullptr);
  uint16_t worker = worker_ports_.back();
  ASSERT_TRUE(WaitReady(worker, 200, seconds(30))) << workers_.back()->Output();
  ASSERT_TRUE(WaitReady(api_->port(), 200, seconds(30)));
  ASSERT_TRUE(redis_->Stop().ok());
  EXPECT_TRUE(WaitReady(worker, 503, seconds(15))) << "worker stayed ready without Redis";
  EXPECT_TRUE(WaitReady(api_->port(), 503, seconds(15))) << "API stayed ready without Redis";
  Result<HttpReply> health = Fetch("127.0.0.1", worker, "GET", "/health");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);  // alive: only readiness follows the dependency
  ASSERT_TRUE(redis_->Relaunch().ok());
  EXPECT_TRUE(WaitReady(worker, 200, seconds(20))) << workers_.back()->Output();
  EXPECT_TRUE(WaitReady(api_->port(), 200, seconds(20)));
}

TEST_F(ScaleOutTest, ThreeWorkersSurviveAKillAndARedisRestart) {
  constexpr int kUsers = 8;
  constexpr int kJobs = 500;
  std::vector<HubClient> users;
  std::vector<std::string> projects;
  for (int u = 0; u < kUsers; ++u) {
    users.emplace_back(api_->port());
    ASSERT_TRUE(users.back().SignUp("user" + std::to_string(u) + "@lab.org").ok());
    projects.push_back(users.back().CreateProject("scale " + std::to_string(u)));
    int n = kJobs / kUsers + (u < kJobs % kUsers ? 1 : 0);
    std::vector<FilePart> files;
    for (int i = 0; i < n; ++i) {
      int seed = u * 1000 + i;
      files.push_back({"s" + std::to_string(seed) + ".png", DiscsPng(96, 96, 2, seed)});
    }
    ASSERT_EQ(users.back().Upload(projects.back(), files).status, 201);
  }
  for (int u = 0; u < kUsers; ++u) {
    HttpReply r =
        users[u].Call("POST", "/api/projects/" + projects[u] + "/segment", {{"model", "slow"}});
    ASSERT_EQ(r.status, 202) << r.body;
  }
  for (const char* id : {"w1", "w2", "w3"}) {
    workers_.push_back(StartWorker(id));
    ASSERT_NE(workers_.back(), nullptr);
  }
  auto done_count = [&] {
    int64_t done = 0;
    for (int u = 0; u < kUsers; ++u) {
      done +=
          users[u].Call("GET", "/api/projects/" + projects[u] + "/queue").Json().value("done", 0);
    }
    return done;
  };
  // Kill one worker mid-batch, then restart Redis while the others keep going.
  auto deadline = std::chrono::steady_clock::now() + seconds(120);
  while (done_count() < 60 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GE(done_count(), 60);
  ASSERT_TRUE(workers_[0]->Signal(SIGKILL).ok());
  workers_[0]->WaitExit(seconds(10));
  while (done_count() < 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(redis_->Restart().ok());

  std::string latest_first, earliest_twentieth = "9999";
  for (int u = 0; u < kUsers; ++u) {
    ASSERT_TRUE(users[u].WaitIdle(projects[u], seconds(240))) << workers_[1]->Output() << "\n"
                                                              << api_->Output();
    std::vector<std::string> done_at;
    HttpReply list = users[u].Call("GET", "/api/projects/" + projects[u] + "/images?per_page=500");
    ASSERT_EQ(list.status, 200) << list.body;
    const json body = list.Json();
    for (const json& image : body["images"]) {
      ASSERT_EQ(image["status"], "done") << image.dump();
      // Exactly once in effect: a second completion would have written version 2.
      ASSERT_EQ(image["segmentation"]["version"], 1) << image.dump();
      done_at.push_back(image["updated_at"]);
    }
    std::sort(done_at.begin(), done_at.end());
    ASSERT_GE(done_at.size(), 20u) << list.body.substr(0, 500);
    latest_first = std::max(latest_first, done_at[0]);
    earliest_twentieth = std::min(earliest_twentieth, done_at[19]);
  }
  EXPECT_EQ(done_count(), kJobs);
  EXPECT_LT(latest_first, earliest_twentieth) << "fairness: a user waited behind another's 20";
}

}  // namespace
}  // namespace seghub::testing
