// Progress reporting for the batch subcommands, on stderr: a self-overwriting line (done/total,
// failures, images/s, ETA) when stderr is a terminal, plain lines every few seconds otherwise
// (logs and CI capture stay readable). Messages printed through Message() clear the live line
// first so they never interleave with it. Thread-compatible: one caller thread.
#ifndef SEGHUB_TOOLS_PROGRESS_H_
#define SEGHUB_TOOLS_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace seghub::tools {

class Progress {
 public:
  // `total`: images this run will process (skipped ones excluded). `enabled` false: silent.
  Progress(int64_t total, std::string label, bool enabled = true);
  // Called after every finished image.
  void Update(int64_t done, int64_t failed);
  // A line for the user (an error for one image) that must not collide with the live line.
  void Message(const std::string& line);
  // The final state, then a newline on a terminal.
  void Finish(int64_t done, int64_t failed);

  // "1m05s", "3.2s"; exposed for tests and the summary.
  static std::string FormatDuration(double seconds);

 private:
  std::string Line(int64_t done, int64_t failed) const;
  void Print(const std::string& line);

  using Clock = std::chrono::steady_clock;
  int64_t total_;
  std::string label_;
  bool enabled_;
  bool tty_;
  Clock::time_point start_;
  Clock::time_point last_print_;
  bool line_open_ = false;  // a live line without its newline is on the terminal
};

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_PROGRESS_H_
