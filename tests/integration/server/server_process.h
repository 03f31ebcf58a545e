// Runs a real `seghub` binary as a child process for integration tests, capturing its stdout and
// stderr together. The destructor kills (SIGKILL) and reaps a child that is still running, so a
// failing test never leaves a server behind.
//
// Not thread-safe, except Output(), which may be called while the reader thread collects output.
#ifndef SEGHUB_TESTS_INTEGRATION_SERVER_SERVER_PROCESS_H_
#define SEGHUB_TESTS_INTEGRATION_SERVER_SERVER_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace seghub::testing {

class ServerProcess {
 public:
  // Starts `binary` with `args` (argv[1..]); the environment is inherited.
  static Result<std::unique_ptr<ServerProcess>> Start(const std::string& binary,
                                                      const std::vector<std::string>& args);
  ServerProcess(pid_t pid, int output_fd);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Waits for the "listening on http://HOST:PORT" line and returns PORT.
  Result<uint16_t> WaitForPort(std::chrono::milliseconds timeout);
  Status Signal(int signal);
  // The exit code; kDeadlineExceeded if still running after `timeout`, kAborted if a signal
  // ended it.
  Result<int> WaitExit(std::chrono::milliseconds timeout);
  // Everything printed so far.
  std::string Output() const;

 private:
  void ReadOutput();

  pid_t pid_;
  int output_fd_;
  bool reaped_ = false;
  int exit_status_ = 0;
  mutable std::mutex mu_;
  std::condition_variable output_cv_;
  std::string output_;          // guarded by mu_
  bool output_closed_ = false;  // guarded by mu_
  std::thread reader_;
};

}  // namespace seghub::testing

#endif  // SEGHUB_TESTS_INTEGRATION_SERVER_SERVER_PROCESS_H_
