#include "support/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "storage/redis_client.h"
#include "support/process_util.h"

namespace seghub::testing {
namespace fs = std::filesystem;
namespace {

constexpr const char* kRedisBinary = "/usr/bin/redis-server";

// Waits for `pid` to exit, up to `timeout`; true when it did.
bool WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int wstatus = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &wstatus, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<RedisServer>> RedisServer::Start() {
  if (::access(kRedisBinary, X_OK) != 0) {
    return FailedPrecondition(std::string(kRedisBinary) +
                              " not found: install the Debian package `redis-server` "
                              "(scripts/bootstrap.sh does)");
  }
  std::unique_ptr<RedisServer> server(new RedisServer());
  std::string tmpl = (fs::temp_directory_path() / "seghub-redis-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return Internal("mkdtemp failed for " + tmpl);
  server->dir_ = tmpl;
  std::error_code ec;
  fs::create_directories(server->dir_ / "data", ec);
  // A port can be taken between probing and binding it: try a few.
  Status status;
  for (int attempt = 0; attempt < 3; ++attempt) {
    server->port_ = FreeLoopbackPort();
    status = server->Launch();
    if (status.ok()) return server;
  }
  return status;
}

Status RedisServer::Launch() {
  if (pid_ > 0) return FailedPrecondition("redis-server is already running");
  const std::vector<std::string> argv = {kRedisBinary,
                                         "--port",
                                         std::to_string(port_),
                                         "--bind",
                                         "127.0.0.1",
                                         "--dir",
                                         (dir_ / "data").string(),
                                         "--save",
                                         "",
                                         "--appendonly",
                                         "yes",
                                         "--appendfsync",
                                         "always",
                                         "--daemonize",
                                         "no",
                                         "--protected-mode",
                                         "no"};
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const fs::path log = dir_ / "redis.log";
  int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Internal("cannot open " + log.string());
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return Internal("fork failed");
  }
  if (pid == 0) {  // child: async-signal-safe calls only
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // no orphaned servers after a crashed test
    if (::getppid() != parent) ::_exit(1);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log_fd);
  pid_ = pid;
  Status ready = WaitUntilReady();
  if (!ready.ok()) Kill();
  return ready;
}

Status RedisServer::WaitUntilReady() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  storage::RedisClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(500);
  std::string last_error;
  while (std::chrono::steady_clock::now() < deadline) {
    int wstatus = 0;
    if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      pid_ = -1;
      return Unavailable("redis-server exited during startup:\n" + Tail(dir_ / "redis.log"));
    }
    auto client = storage::RedisClient::Connect(url(), options);
    // While the AOF loads, PING answers LOADING (an error): not ready yet.
    Status ping = client.ok() ? (*client)->Ping() : client.status();
    if (ping.ok()) return Status::Ok();
    last_error = ping.ToString();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Unavailable("redis-server did not answer PING within 10 s (" + last_error + "):\n" +
                     Tail(dir_ / "redis.log"));
}

Status RedisServer::Stop() {
  if (pid_ <= 0) return Status::Ok();
  ::kill(pid_, SIGTERM);
  if (!WaitExit(pid_, std::chrono::seconds(10))) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return Internal("redis-server ignored SIGTERM for 10 s; killed");
  }
  pid_ = -1;
  return Status::Ok();
}

Status RedisServer::Kill() {
  if (pid_ <= 0) return Status::Ok();
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return Status::Ok();
}

Status RedisServer::WipeData() {
  if (pid_ > 0) return FailedPrecondition("stop redis-server before wiping its data");
  std::error_code ec;
  fs::remove_all(dir_ / "data", ec);
  fs::create_directories(dir_ / "data", ec);
  return ec ? Internal("cannot wipe " + (dir_ / "data").string()) : Status::Ok();
}

Status RedisServer::Relaunch() { return Launch(); }

Status RedisServer::Restart() {
  SEGHUB_RETURN_IF_ERROR(Stop());
  return Launch();
}

RedisServer::~RedisServer() {
  Kill();
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string RedisServer::url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

Result<RedisServer*> SharedRedis() {
  // Destroyed at exit (static destructor), which kills the server and removes its folder.
  static std::mutex mu;
  static std::unique_ptr<RedisServer> server;
  static Status error;        // guarded by mu: a failed start is not retried by every test
  static bool tried = false;  // guarded by mu
  std::lock_guard<std::mutex> lock(mu);
  if (!tried) {
    tried = true;
    Result<std::unique_ptr<RedisServer>> started = RedisServer::Start();
    if (started.ok()) {
      server = std::move(started).value();
    } else {
      error = started.status();
    }
  }
  if (!server) return error;
  return server.get();
}

}  // namespace seghub::testing
