// Throughput of the distributed queue with 1, 2 and 3 workers, measured side by side in one run
// (make bench-scaleout). Real PostgreSQL, Redis, one API and `seghub worker` processes; the model
// simulates 20 ms of compute per image by sleeping, so the ratios measure what scale-out costs
// (queue, database, blob transfer) rather than this 2-core machine's CPU: on real machines each
// worker brings its own cores. Not a test: prints a table, asserts nothing about speed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "hub_test_env.h"
#include "support/redis_server.h"

namespace seghub::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

TEST(ScaleOutBench, ThroughputPerWorkerCount) {
  constexpr int kUsers = 4;
  constexpr int kPerUser = 75;
  fs::path dir = fs::temp_directory_path() / ("seghub_scaleout_bench_" + std::to_string(getpid()));
  fs::remove_all(dir);
  WriteTestModel(dir / "models", "sim20ms", 20000);
  std::string db = DbUrlFor(DbKind::kPostgres);
  auto redis = RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status().ToString();
  std::string secret = (dir / "blob.secret").string();
  HubServer api(dir, db,
                {"--queue", (*redis)->url(), "--no-rate-limit", "--blob-secret-file", secret});
  ASSERT_TRUE(api.Start().ok()) << api.Output();
  std::vector<HubClient> users;
  std::vector<std::string> projects;
  for (int u = 0; u < kUsers; ++u) {
    users.emplace_back(api.port());
    ASSERT_TRUE(users.back().SignUp("bench" + std::to_string(u) + "@lab.org").ok());
    projects.push_back(users.back().CreateProject("bench"));
    std::vector<FilePart> files;
    for (int i = 0; i < kPerUser; ++i) {
      files.push_back({"b" + std::to_string(i) + ".png", DiscsPng(128, 128, 3, u * 1000 + i)});
    }
    ASSERT_EQ(users.back().Upload(projects.back(), files).status, 201);
  }
  std::printf("\nworkers  images  seconds  images/s  vs 1 worker\n");
  double base = 0;
  for (int workers = 1; workers <= 3; ++workers) {
    std::vector<std::unique_ptr<ServerProcess>> procs;
    for (int w = 0; w < workers; ++w) {
      auto p =
          ServerProcess::Start(SEGHUB_BINARY, {"worker",
                                               "--db",
                                               db,
                                               "--queue",
                                               (*redis)->url(),
                                               "--models",
                                               (dir / "models").string(),
                                               "--api-url",
                                               "http://127.0.0.1:" + std::to_string(api.port()),
                                               "--blob-secret-file",
                                               secret,
                                               "--data",
                                               (dir / ("w" + std::to_string(w))).string(),
                                               "--port",
                                               "0",
                                               "--threads",
                                               "1",
                                               "--max-in-flight",
                                               "8",
                                               "--log-level",
                                               "warn"});
      ASSERT_TRUE(p.ok());
      procs.push_back(std::move(p).value());
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));  // engines load their model
    // A new threshold each round: the response cache must not answer for the workers.
    double threshold = 0.5 + 0.01 * workers;
    auto start = Clock::now();
    for (int u = 0; u < kUsers; ++u) {
      HttpReply r =
          users[u].Call("POST", "/api/projects/" + projects[u] + "/segment",
                        {{"model", "sim20ms"}, {"force", true}, {"threshold", threshold}});
      ASSERT_EQ(r.status, 202) << r.body;
    }
    for (int u = 0; u < kUsers; ++u) {
      ASSERT_TRUE(users[u].WaitIdle(projects[u], std::chrono::seconds(300)));
    }
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    double rate = kUsers * kPerUser / seconds;
    if (workers == 1) base = rate;
    std::printf("%7d  %6d  %7.2f  %8.1f  %10.2fx\n", workers, kUsers * kPerUser, seconds, rate,
                rate / base);
    procs.clear();  // SIGKILL: their leases are all released by now (the queue is idle)
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace seghub::testing
