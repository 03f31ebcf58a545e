#include "support/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <pqxx/pqxx>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

#include "support/process_util.h"

namespace seghub::testing {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPostgresRoot = "/usr/lib/postgresql";

// The bin folder of the newest installed server version, or empty.
fs::path FindBinDir() {
  fs::path best;
  int best_version = -1;
  std::error_code ec;
  for (fs::directory_iterator it(kPostgresRoot, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path bin = it->path() / "bin";
    if (!fs::exists(bin / "postgres") || !fs::exists(bin / "initdb")) continue;
    const int version = std::atoi(it->path().filename().c_str());
    if (version > best_version) {
      best_version = version;
      best = bin;
    }
  }
  return best;
}

// The account to run the server as: PostgreSQL refuses to run as root.
struct RunAs {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

Result<RunAs> ServerAccount() {
  RunAs as;
  if (::geteuid() != 0) return as;
  const passwd* pw = ::getpwnam("postgres");
  if (!pw) return FailedPrecondition("running as root but there is no `postgres` user");
  as.switch_user = true;
  as.uid = pw->pw_uid;
  as.gid = pw->pw_gid;
  return as;
}

// Forks and execs `argv` as `as`, with stdout/stderr appended to `log`. `die_with_parent` makes
// the kernel kill the child when this thread exits (no orphaned servers after a crash).
Result<pid_t> Spawn(const std::vector<std::string>& argv, const RunAs& as, const fs::path& log,
                    bool die_with_parent) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Internal("cannot open " + log.string());
  if (as.switch_user && ::fchown(log_fd, as.uid, as.gid) != 0) {
    ::close(log_fd);
    return Internal("cannot chown " + log.string());
  }
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
    if (as.switch_user) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(as.gid) != 0 || ::setuid(as.uid) != 0) {
        ::_exit(126);
      }
    }
    // After setuid: changing credentials clears the parent-death signal.
    if (die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log_fd);
  return pid;
}

// Runs `argv` as `as` to completion; kInternal with the log's tail when it fails.
Status RunToCompletion(const std::vector<std::string>& argv, const RunAs& as, const fs::path& log) {
  SEGHUB_ASSIGN_OR_RETURN(pid_t pid, Spawn(argv, as, log, /*die_with_parent=*/false));
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return Internal(argv[0] + " failed:\n" + Tail(log));
  }
  return Status::Ok();
}

// initdb takes seconds (most of a test binary's start-up), so its output is cached once per
// machine, server version and user in the temp folder and copied (`cp -a`, as the server user)
// for later servers. The cache appears by an atomic rename, so a half-written one is never used.
Status InitDataDir(const fs::path& bin, const RunAs& as, const fs::path& data) {
  const fs::path cache =
      fs::temp_directory_path() / ("seghub-pg-initdb-" + bin.parent_path().filename().string() +
                                   "-" + std::to_string(as.switch_user ? as.uid : ::geteuid()));
  const fs::path log = data.parent_path() / "initdb.log";
  std::error_code ec;
  if (fs::exists(cache / "PG_VERSION", ec) &&
      RunToCompletion({"/bin/cp", "-a", cache.string(), data.string()}, as, log).ok()) {
    return Status::Ok();
  }
  fs::remove_all(data, ec);
  SEGHUB_RETURN_IF_ERROR(
      RunToCompletion({(bin / "initdb").string(), "-D", data.string(), "-A", "trust", "-U",
                       "postgres", "--no-sync", "--no-locale", "-E", "UTF8"},
                      as, log));
  const fs::path staging = cache.string() + ".tmp." + std::to_string(::getpid());
  if (RunToCompletion({"/bin/cp", "-a", data.string(), staging.string()}, as, log).ok()) {
    if (::rename(staging.c_str(), cache.c_str()) != 0) fs::remove_all(staging, ec);  // lost a race
  }
  return Status::Ok();  // the cache is an optimisation only
}

}  // namespace

Result<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  const fs::path bin = FindBinDir();
  if (bin.empty()) {
    return FailedPrecondition(
        "PostgreSQL server binaries not found under /usr/lib/postgresql/<version>/bin: install "
        "the Debian package `postgresql` (scripts/bootstrap.sh does)");
  }
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  std::string tmpl = (fs::temp_directory_path() / "seghub-pg-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return Internal("mkdtemp failed for " + tmpl);
  server->dir_ = tmpl;
  // A port can be taken between probing and binding it: try a few.
  Status status;
  for (int attempt = 0; attempt < 3; ++attempt) {
    status = server->Launch(bin);
    if (status.ok()) return server;
  }
  return status;
}

Status PostgresServer::Launch(const fs::path& bin) {
  SEGHUB_ASSIGN_OR_RETURN(RunAs as, ServerAccount());
  std::error_code ec;
  const fs::path data = dir_ / "data";
  fs::remove_all(data, ec);
  if (as.switch_user && ::chown(dir_.c_str(), as.uid, as.gid) != 0) {
    return Internal("cannot chown " + dir_.string() + " to postgres");
  }
  SEGHUB_RETURN_IF_ERROR(InitDataDir(bin, as, data));
  port_ = FreeLoopbackPort();
  SEGHUB_ASSIGN_OR_RETURN(
      pid_, Spawn({(bin / "postgres").string(), "-D", data.string(), "-p", std::to_string(port_),
                   "-k", dir_.string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c",
                   "full_page_writes=off", "-c", "synchronous_commit=off", "-c",
                   "max_connections=200", "-c", "deadlock_timeout=100ms"},
                  as, dir_ / "postgres.log", /*die_with_parent=*/true));
  Status ready = WaitUntilReady();
  if (!ready.ok()) Stop();
  return ready;
}

Status PostgresServer::WaitUntilReady() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string last_error;
  while (std::chrono::steady_clock::now() < deadline) {
    int wstatus = 0;
    if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      pid_ = -1;
      return Unavailable("postgres exited during startup:\n" + Tail(dir_ / "postgres.log"));
    }
    try {
      pqxx::connection conn(url() + "?connect_timeout=2");
      return Status::Ok();
    } catch (const std::exception& e) {
      last_error = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Unavailable("postgres did not accept connections within 30 s (" + last_error + "):\n" +
                     Tail(dir_ / "postgres.log"));
}

void PostgresServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGINT);  // fast shutdown: abort sessions, no checkpoint wait beyond a short one
  int wstatus = 0;
  for (int i = 0; i < 200; ++i) {  // up to 10 s
    if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &wstatus, 0);
  pid_ = -1;
}

PostgresServer::~PostgresServer() {
  Stop();
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string PostgresServer::url() const {
  return "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

Result<std::string> PostgresServer::CreateDatabase() {
  static std::atomic<int> counter{0};
  const std::string name =
      "seghub_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1));
  try {
    pqxx::connection conn(url());
    pqxx::nontransaction tx(conn);  // CREATE DATABASE cannot run inside a transaction block
    tx.exec("CREATE DATABASE " + name);
  } catch (const std::exception& e) {
    return Internal("CREATE DATABASE " + name + " failed: " + e.what());
  }
  return "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

Status PostgresServer::DropDatabase(const std::string& url) {
  const std::string name = url.substr(url.rfind('/') + 1);
  try {
    pqxx::connection conn(this->url());
    pqxx::nontransaction tx(conn);
    tx.exec("DROP DATABASE IF EXISTS " + conn.quote_name(name) + " WITH (FORCE)");
  } catch (const std::exception& e) {
    return Internal("DROP DATABASE " + name + " failed: " + e.what());
  }
  return Status::Ok();
}

namespace {
constexpr std::string_view kSearchPathParam = "?options=-csearch_path%3D";
}  // namespace

Result<std::string> PostgresServer::CreateSchema() {
  std::string db;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (scratch_db_.empty()) {
      SEGHUB_ASSIGN_OR_RETURN(std::string db_url, CreateDatabase());
      scratch_db_ = db_url.substr(db_url.rfind('/') + 1);
    }
    db = scratch_db_;
  }
  static std::atomic<int> counter{0};
  const std::string schema =
      "s_" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1));
  const std::string base = "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db;
  try {
    pqxx::connection conn(base);
    pqxx::nontransaction tx(conn);
    tx.exec("CREATE SCHEMA " + schema);
  } catch (const std::exception& e) {
    return Internal("CREATE SCHEMA " + schema + " failed: " + e.what());
  }
  return base + std::string(kSearchPathParam) + schema;
}

Status PostgresServer::DropSchema(const std::string& url) {
  const size_t param = url.find(kSearchPathParam);
  if (param == std::string::npos) return InvalidArgument("not a CreateSchema() url: " + url);
  const std::string schema = url.substr(param + kSearchPathParam.size());
  try {
    pqxx::connection conn(url.substr(0, param));
    pqxx::nontransaction tx(conn);
    tx.exec("DROP SCHEMA IF EXISTS " + conn.quote_name(schema) + " CASCADE");
  } catch (const std::exception& e) {
    return Internal("DROP SCHEMA " + schema + " failed: " + e.what());
  }
  return Status::Ok();
}

Result<PostgresServer*> SharedPostgres() {
  // Destroyed at exit (static destructor), which stops the server and removes its folder.
  static std::mutex mu;
  static std::unique_ptr<PostgresServer> server;
  static Status error;        // guarded by mu: a failed start is not retried by every test
  static bool tried = false;  // guarded by mu
  std::lock_guard<std::mutex> lock(mu);
  if (!tried) {
    tried = true;
    Result<std::unique_ptr<PostgresServer>> started = PostgresServer::Start();
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
