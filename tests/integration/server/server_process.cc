#include "server_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <regex>

extern char** environ;

namespace seghub::testing {

Result<std::unique_ptr<ServerProcess>> ServerProcess::Start(const std::string& binary,
                                                            const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> storage = {binary};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return Internal("cannot start " + binary + ": " + std::strerror(rc));
  }
  return std::make_unique<ServerProcess>(pid, fds[0]);
}

ServerProcess::ServerProcess(pid_t pid, int output_fd)
    : pid_(pid), output_fd_(output_fd), reader_([this] { ReadOutput(); }) {}

ServerProcess::~ServerProcess() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  reader_.join();  // the pipe reaches EOF once the child is gone
  close(output_fd_);
}

void ServerProcess::ReadOutput() {
  char buf[4096];
  while (true) {
    ssize_t n = read(output_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (n <= 0) {
      output_closed_ = true;
      output_cv_.notify_all();
      return;
    }
    output_.append(buf, static_cast<size_t>(n));
    output_cv_.notify_all();
  }
}

Result<uint16_t> ServerProcess::WaitForPort(std::chrono::milliseconds timeout) {
  static const std::regex kListening(R"(listening on http://[^\s]+:(\d+))");
  std::unique_lock<std::mutex> lock(mu_);
  std::smatch m;
  bool found = output_cv_.wait_for(
      lock, timeout, [&] { return std::regex_search(output_, m, kListening) || output_closed_; });
  if (found && !m.empty()) return static_cast<uint16_t>(std::stoi(m[1].str()));
  return DeadlineExceeded("server did not report its port; output:\n" + output_);
}

Status ServerProcess::Signal(int signal) {
  if (reaped_ || kill(pid_, signal) != 0) return FailedPrecondition("process is not running");
  return Status::Ok();
}

Result<int> ServerProcess::WaitExit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reaped_) {
    pid_t r = waitpid(pid_, &exit_status_, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceeded("process still running");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFSIGNALED(exit_status_)) {
    return Status(StatusCode::kAborted,
                  "killed by signal " + std::to_string(WTERMSIG(exit_status_)));
  }
  return WEXITSTATUS(exit_status_);
}

std::string ServerProcess::Output() const {
  std::lock_guard<std::mutex> lock(mu_);
  return output_;
}

}  // namespace seghub::testing
