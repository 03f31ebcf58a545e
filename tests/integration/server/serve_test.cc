// Starts the real `seghub serve` binary and checks it over HTTP: probes, metrics, limits,
// malformed input and a clean SIGTERM shutdown.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "http_client.h"
#include "server_process.h"

namespace seghub::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kHost[] = "127.0.0.1";

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("seghub_serve_test_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "models" / "echo");
    std::ofstream(dir_ / "models" / "echo" / "model.json")
        << R"({"name":"echo","backend":"test","architecture":"identity",)"
        << R"("input":{"channels":1},"reference_shape":[1,8,8]})";
    auto proc = ServerProcess::Start(
        SEGHUB_BINARY, {"serve", "--host", kHost, "--port", "0", "--models",
                        (dir_ / "models").string(), "--data", (dir_ / "data").string(),
                        "--max-body", "1KiB", "--memory-budget", "256MiB", "--threads", "1"});
    ASSERT_TRUE(proc.ok()) << proc.status().ToString();
    server_ = std::move(proc).value();
    auto port = server_->WaitForPort(seconds(30));
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
  }

  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  // Polls `target` until it answers `status` or the timeout passes.
  bool WaitForStatus(const std::string& target, int status, milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = Fetch(kHost, port_, "GET", target);
      if (r.ok() && r->status == status) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }

  HttpReply Get(const std::string& target) {
    auto r = Fetch(kHost, port_, "GET", target);
    EXPECT_TRUE(r.ok()) << r.status().ToString() << "\nserver output:\n" << server_->Output();
    return r.ok() ? *r : HttpReply{};
  }

  fs::path dir_;
  std::unique_ptr<ServerProcess> server_;
  uint16_t port_ = 0;
};

TEST_F(ServeTest, ProbesLimitsMetricsAndShutdown) {
  ASSERT_TRUE(WaitForStatus("/health", 200, seconds(30))) << server_->Output();
  HttpReply health = Get("/health");
  EXPECT_EQ(health.Json().value("status", ""), "healthy");
  EXPECT_TRUE(health.Json().contains("timestamp"));
  EXPECT_TRUE(health.Json().contains("gpu_available"));

  ASSERT_TRUE(WaitForStatus("/ready", 200, seconds(60))) << server_->Output();
  EXPECT_EQ(Get("/startup").status, 200);
  EXPECT_EQ(Get("/v2/health/ready").status, 200);
  EXPECT_EQ(Get("/v2/health/live").status, 200);
  EXPECT_EQ(Get("/health").Json().value("models_loaded", -1), 1);
  EXPECT_EQ(Get("/version").Json().value("name", ""), "seghub");

  HttpReply missing = Get("/no/such/route");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Json().value("code", ""), "NOT_FOUND");
  EXPECT_EQ(missing.Header("Content-Type"), "application/json");

  auto too_big = Fetch(kHost, port_, "POST", "/health", std::string(4096, 'x'));
  ASSERT_TRUE(too_big.ok()) << too_big.status().ToString();
  EXPECT_EQ(too_big->status, 413);
  EXPECT_EQ(too_big->Json().value("code", ""), "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(Get("/health").status, 200);

  auto raw = HttpConnection::Connect(kHost, port_);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE((*raw)->Write("THIS IS NOT HTTP\r\n\r\n").ok());
  auto garbage = (*raw)->ReadReply();
  ASSERT_TRUE(garbage.ok()) << garbage.status().ToString();
  EXPECT_EQ(garbage->status, 400);
  EXPECT_EQ(Get("/health").status, 200);

  // After the requests above the HTTP metrics exist; the whole exposition must satisfy promtool.
  HttpReply metrics = Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.Header("Content-Type").find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(metrics.body.find("seghub_http_requests_total{method=\"GET\",route=\"/health\""),
            std::string::npos);
  fs::path metrics_file = dir_ / "metrics.txt";
  std::ofstream(metrics_file) << metrics.body;
  std::string cmd = std::string(SEGHUB_PROMTOOL) + " check metrics < " + metrics_file.string() +
                    " > " + (dir_ / "promtool.txt").string() + " 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream promtool_out(dir_ / "promtool.txt");
  std::string promtool_text((std::istreambuf_iterator<char>(promtool_out)), {});
  EXPECT_EQ(rc, 0) << "promtool: " << promtool_text << "\nmetrics:\n" << metrics.body;

  ASSERT_TRUE(server_->Signal(SIGTERM).ok());
  auto exit_code = server_->WaitExit(seconds(10));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status().ToString() << "\n" << server_->Output();
  EXPECT_EQ(*exit_code, 0) << server_->Output();
}

TEST_F(ServeTest, ReadinessDropsAndInFlightKeepAliveConnectionClosesOnSigterm) {
  ASSERT_TRUE(WaitForStatus("/ready", 200, seconds(60))) << server_->Output();
  auto conn = HttpConnection::Connect(kHost, port_);
  ASSERT_TRUE(conn.ok());
  auto first = (*conn)->Request("GET", "/health");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 200);
  ASSERT_TRUE(server_->Signal(SIGINT).ok());
  // The idle keep-alive connection is closed by the server rather than left hanging.
  EXPECT_TRUE((*conn)->WaitClosed(seconds(10)));
  auto exit_code = server_->WaitExit(seconds(10));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status().ToString() << "\n" << server_->Output();
  EXPECT_EQ(*exit_code, 0);
}

}  // namespace
}  // namespace seghub::testing
