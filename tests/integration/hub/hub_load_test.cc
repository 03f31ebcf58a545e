// The Hub's queue under load and through crashes, via the real binary:
// - 8 users upload 200 images each and segment them at once: every job completes exactly once,
//   no 5xx, and fair share: once a user's jobs are queued, no other user gets 50 results before
//   that user's first. (Counted from each user's own enqueue, because the eight submissions are
//   serialised by the database and can land up to a second apart on a loaded machine.)
// - kill -9 while 100 jobs are queued or running, restart: all 100 complete exactly once.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <thread>

#include "hub/image_service.h"
#include "hub_test_env.h"

namespace seghub::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class HubLoadTest : public ::testing::TestWithParam<DbKind> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("seghub_hub_load_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(dir_);
    db_url_ = DbUrlFor(GetParam());
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  void StartServer() {
    server_ =
        std::make_unique<HubServer>(dir_, db_url_, std::vector<std::string>{"--no-rate-limit"});
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString() << "\n" << server_->Output();
  }
  // Every image of the project, through the paged list.
  std::vector<json> AllImages(HubClient& c, const std::string& project) {
    std::vector<json> out;
    for (int page = 1;; ++page) {
      HttpReply r = c.Call(
          "GET", "/api/projects/" + project + "/images?per_page=500&page=" + std::to_string(page));
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      json j = r.Json();
      for (const json& i : j["images"]) out.push_back(i);
      if (j["images"].empty() || static_cast<int64_t>(out.size()) >= j["total"].get<int64_t>()) {
        break;
      }
    }
    return out;
  }

  static inline int counter_ = 0;
  fs::path dir_;
  std::string db_url_;
  std::unique_ptr<HubServer> server_;
};

TEST_P(HubLoadTest, EightUsersShareTheQueueFairly) {
  constexpr int kUsers = 8;
  constexpr int kImages = 200;
  WriteTestModel(dir_ / "models", "bright");
  StartServer();
  std::vector<HubClient> users;
  std::vector<std::string> projects;
  for (int u = 0; u < kUsers; ++u) {
    users.emplace_back(server_->port());
    ASSERT_TRUE(users.back().SignUp("user" + std::to_string(u) + "@lab.org").ok());
    projects.push_back(users.back().CreateProject("load " + std::to_string(u)));
  }
  std::atomic<int> server_errors{0};
  std::vector<std::string> queued_at(kUsers);  // written by thread u only, read after join
  std::barrier sync(kUsers);
  std::vector<std::thread> threads;
  for (int u = 0; u < kUsers; ++u) {
    threads.emplace_back([&, u] {
      for (int chunk = 0; chunk < kImages / 100; ++chunk) {
        std::vector<FilePart> files;
        for (int i = 0; i < 100; ++i) {
          int seed = u * 10000 + chunk * 100 + i;
          files.push_back({"u" + std::to_string(u) + "_" + std::to_string(seed) + ".png",
                           DiscsPng(96, 96, 2, seed)});
        }
        HttpReply r = users[u].Upload(projects[u], files);
        if (r.status >= 500 || r.status != 201) ++server_errors;
      }
      sync.arrive_and_wait();  // everyone submits at once
      HttpReply s =
          users[u].Call("POST", "/api/projects/" + projects[u] + "/segment", {{"model", "bright"}});
      if (s.status != 202) ++server_errors;
      // The reply comes after the jobs are committed; the server stamps results on this clock.
      queued_at[u] = hub::Iso8601(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(server_errors.load(), 0) << server_->Output();

  std::vector<std::vector<std::string>> done_at(kUsers);  // sorted completion stamps per user
  for (int u = 0; u < kUsers; ++u) {
    ASSERT_TRUE(users[u].WaitIdle(projects[u], std::chrono::seconds(300))) << server_->Output();
    std::vector<json> images = AllImages(users[u], projects[u]);
    ASSERT_EQ(images.size(), static_cast<size_t>(kImages));
    for (const json& image : images) {
      ASSERT_EQ(image["status"], "done") << image.dump();
      // Exactly once: a second completion would have written version 2.
      ASSERT_EQ(image["segmentation"]["version"], 1) << image.dump();
      done_at[u].push_back(image["updated_at"]);
    }
    std::sort(done_at[u].begin(), done_at[u].end());
  }
  for (int u = 0; u < kUsers; ++u) {
    const std::string& first = done_at[u][0];
    for (int v = 0; v < kUsers; ++v) {
      if (v == u) continue;
      auto from = std::upper_bound(done_at[v].begin(), done_at[v].end(), queued_at[u]);
      auto to = std::lower_bound(done_at[v].begin(), done_at[v].end(), first);
      EXPECT_LT(std::max<ptrdiff_t>(0, to - from), 50)
          << "user " << v << " got 50 results between user " << u << "'s enqueue (" << queued_at[u]
          << ") and its first result (" << first << ")";
    }
  }
}

TEST_P(HubLoadTest, KillNineLosesNoJobAndRunsNoneTwice) {
  // 30 ms of simulated compute per image keeps work queued and in flight when the kill lands.
  WriteTestModel(dir_ / "models", "slow", 30000);
  StartServer();
  HubClient alice(server_->port());
  ASSERT_TRUE(alice.SignUp("alice@lab.org").ok());
  std::string project = alice.CreateProject("crash");
  std::vector<FilePart> files;
  for (int i = 0; i < 100; ++i) {
    files.push_back({"c" + std::to_string(i) + ".png", DiscsPng(96, 96, 2, 7000 + i)});
  }
  ASSERT_EQ(alice.Upload(project, files).status, 201);
  HttpReply s = alice.Call("POST", "/api/projects/" + project + "/segment", {{"model", "slow"}});
  ASSERT_EQ(s.status, 202) << s.body;
  ASSERT_EQ(s.Json()["queued"], 100);
  json q;
  for (int i = 0; i < 600; ++i) {
    q = alice.Call("GET", "/api/projects/" + project + "/queue").Json();
    if (q.value("done", 0) >= 5) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(q.value("done", 0), 5) << q.dump();
  ASSERT_GT(q.value("queued", 0) + q.value("processing", 0), 0) << "finished before the kill";
  server_->Kill();

  StartServer();
  alice.set_port(server_->port());
  ASSERT_TRUE(alice.WaitIdle(project, std::chrono::seconds(120))) << server_->Output();
  q = alice.Call("GET", "/api/projects/" + project + "/queue").Json();
  EXPECT_EQ(q["done"], 100) << q.dump();
  std::vector<json> images = AllImages(alice, project);
  ASSERT_EQ(images.size(), 100u);
  for (const json& image : images) {
    EXPECT_EQ(image["status"], "done") << image.dump();
    EXPECT_EQ(image["segmentation"]["version"], 1) << image.dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Db, HubLoadTest, ::testing::Values(DbKind::kSqlite, DbKind::kPostgres),
                         [](const ::testing::TestParamInfo<DbKind>& info) {
                           return info.param == DbKind::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace seghub::testing
