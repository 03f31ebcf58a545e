// A real `seghub serve` for Hub service tests: a temporary data folder, deterministic
// test-backend models, SQLite or a real PostgreSQL database (started by the test harness), and
// a small client that speaks the Hub service API as a signed-in user.
#ifndef SEGHUB_TESTS_INTEGRATION_HUB_HUB_TEST_ENV_H_
#define SEGHUB_TESTS_INTEGRATION_HUB_HUB_TEST_ENV_H_

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http_client.h"
#include "server_process.h"

namespace seghub::testing {

enum class DbKind { kSqlite, kPostgres };

struct FilePart {
  std::string filename;
  std::string data;
};

// Runs the server; Restart() and Kill() keep the data folder and database.
class HubServer {
 public:
  // `db_url` empty: SQLite in the data folder. `extra` flags are appended.
  HubServer(std::filesystem::path dir, std::string db_url, std::vector<std::string> extra = {});
  ~HubServer();
  Status Start();
  void Kill();    // SIGKILL, no shutdown
  Status Stop();  // SIGTERM and wait
  uint16_t port() const { return port_; }
  std::string Output() const { return process_ ? process_->Output() : ""; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::string db_url_;
  std::vector<std::string> extra_;
  std::unique_ptr<ServerProcess> process_;
  uint16_t port_ = 0;
};

// One user's view of the API.
class HubClient {
 public:
  HubClient(uint16_t port, std::string token = "") : port_(port), token_(std::move(token)) {}
  // Registers (or logs in when `login`) and keeps the access token.
  Status SignUp(const std::string& email, const std::string& password = "correct horse 42");
  HttpReply Call(const std::string& method, const std::string& target,
                 const nlohmann::json& body = nullptr,
                 std::map<std::string, std::string> headers = {});
  HttpReply Raw(const std::string& method, const std::string& target, const std::string& payload,
                std::map<std::string, std::string> headers = {});
  HttpReply Upload(const std::string& project_id, const std::vector<FilePart>& files);
  // Creates a project and returns its id ("" on failure, with a gtest failure).
  std::string CreateProject(const std::string& name);
  // Polls the project queue until nothing is queued or processing (or the timeout).
  bool WaitIdle(const std::string& project_id, std::chrono::seconds timeout);
  const std::string& token() const { return token_; }
  void set_port(uint16_t port) { port_ = port; }

 private:
  uint16_t port_;
  std::string token_;
};

// "" for SQLite (the server's default), else a fresh database on the shared test PostgreSQL.
std::string DbUrlFor(DbKind kind);

// Writes a test-backend model that thresholds brightness (objects brighter than mid-grey).
// `per_sample_us` > 0 simulates compute time per image (for tests that need work in flight).
void WriteTestModel(const std::filesystem::path& models_dir, const std::string& name,
                    int64_t per_sample_us = 0);
// A PNG with `objects` bright discs on a dark background; `seed` varies positions (and bytes).
std::string DiscsPng(int width, int height, int objects, int seed);
std::string MultipartBody(const std::vector<FilePart>& files, const std::string& boundary);

}  // namespace seghub::testing

#endif  // SEGHUB_TESTS_INTEGRATION_HUB_HUB_TEST_ENV_H_
