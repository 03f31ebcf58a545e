#include "tools/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace seghub::tools {
namespace {

// A terminal redraws cheaply; a log file gets a line only every few seconds.
constexpr std::chrono::milliseconds kTtyInterval{200};
constexpr std::chrono::seconds kPlainInterval{5};

}  // namespace

Progress::Progress(int64_t total, std::string label, bool enabled)
    : total_(total),
      label_(std::move(label)),
      enabled_(enabled),
      tty_(::isatty(STDERR_FILENO) == 1),
      start_(Clock::now()),
      last_print_(start_) {}

std::string Progress::FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  char buf[32];
  if (seconds < 60) {
    std::snprintf(buf, sizeof(buf), "%.1fs", seconds);
  } else if (seconds < 3600) {
    const int s = static_cast<int>(std::lround(seconds));
    std::snprintf(buf, sizeof(buf), "%dm%02ds", s / 60, s % 60);
  } else {
    const int m = static_cast<int>(std::lround(seconds / 60));
    std::snprintf(buf, sizeof(buf), "%dh%02dm", m / 60, m % 60);
  }
  return buf;
}

std::string Progress::Line(int64_t done, int64_t failed) const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : -1.0;
  char buf[256];
  std::snprintf(
      buf, sizeof(buf), "%s %lld/%lld (%.0f%%)%s, %.2f images/s, elapsed %s, ETA %s",
      label_.c_str(), static_cast<long long>(done), static_cast<long long>(total_),
      total_ > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0,
      failed > 0 ? (", " + std::to_string(failed) + " failed").c_str() : "", rate,
      FormatDuration(elapsed).c_str(), done >= total_ ? "0s" : FormatDuration(eta).c_str());
  return buf;
}

void Progress::Print(const std::string& line) {
  if (tty_) {
    // \r and clear-to-end-of-line redraw in place.
    std::cerr << "\r" << line << "\033[K" << std::flush;
    line_open_ = true;
  } else {
    std::cerr << line << "\n" << std::flush;
  }
  last_print_ = Clock::now();
}

void Progress::Update(int64_t done, int64_t failed) {
  if (!enabled_) return;
  const auto interval = tty_
                            ? std::chrono::duration_cast<std::chrono::milliseconds>(kTtyInterval)
                            : std::chrono::duration_cast<std::chrono::milliseconds>(kPlainInterval);
  if (Clock::now() - last_print_ < interval && done < total_) return;
  if (!tty_ && done >= total_) return;  // Finish() prints the last plain line
  Print(Line(done, failed));
}

void Progress::Message(const std::string& line) {
  if (line_open_) {
    std::cerr << "\r\033[K";
    line_open_ = false;
  }
  std::cerr << line << "\n" << std::flush;
}

void Progress::Finish(int64_t done, int64_t failed) {
  if (!enabled_) return;
  Print(Line(done, failed));
  if (tty_) std::cerr << "\n" << std::flush;
  line_open_ = false;
}

}  // namespace seghub::tools
