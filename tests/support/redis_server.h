// RedisServer: a throwaway redis-server for tests, on a free loopback port with its own temp
// folder, AOF on with fsync always (so Stop()+Relaunch() loses nothing) and RDB snapshots off.
// The binary comes from the Debian `redis-server` package (scripts/bootstrap.sh); without it
// Start() fails with a message saying so (tests fail, they are not skipped).
//
// Threading: Start()/Stop()/Kill()/Relaunch()/Restart()/WipeData() from one thread at a time
// (the test body); url()/port() from any thread.
#ifndef SEGHUB_TESTS_SUPPORT_REDIS_SERVER_H_
#define SEGHUB_TESTS_SUPPORT_REDIS_SERVER_H_

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/status.h"

namespace seghub::testing {

class RedisServer {
 public:
  // Starts a server and waits (up to ~10 s) until it answers PING. The server is killed when
  // the calling thread exits (PR_SET_PDEATHSIG): call it from the main thread.
  static Result<std::unique_ptr<RedisServer>> Start();

  ~RedisServer();  // kills the server, removes the folder
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::string url() const;  // "redis://127.0.0.1:<port>"
  int port() const { return port_; }
  bool running() const { return pid_ > 0; }

  // SIGTERM and wait: Redis flushes the AOF, so Relaunch() finds every write.
  Status Stop();
  // SIGKILL: a crash. With appendfsync always, acknowledged writes survive anyway.
  Status Kill();
  // Deletes the AOF (the server must be stopped): the next Relaunch() starts empty.
  Status WipeData();
  // Starts the server again on the same port and folder, and waits for PING.
  Status Relaunch();
  // Stop() then Relaunch().
  Status Restart();

 private:
  RedisServer() = default;
  Status Launch();
  Status WaitUntilReady();

  std::filesystem::path dir_;  // temp folder: data/ (the AOF) and redis.log
  pid_t pid_ = -1;
  int port_ = 0;
};

// The process-wide server, started on first use and stopped at exit; the error (missing binary,
// failed start) is remembered and returned to every caller. Tests that stop or wipe a server
// start their own with RedisServer::Start(). Any thread (see Start()).
Result<RedisServer*> SharedRedis();

}  // namespace seghub::testing

#endif  // SEGHUB_TESTS_SUPPORT_REDIS_SERVER_H_
