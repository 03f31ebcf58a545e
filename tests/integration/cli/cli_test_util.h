// Shared by the CLI integration tests: a temporary workspace with a test-backend model, synthetic
// images, and a runner for the real `seghub` binary that keeps stdout and stderr apart (--json
// output must be the only thing on stdout).
#ifndef SEGHUB_TESTS_INTEGRATION_CLI_CLI_TEST_UTIL_H_
#define SEGHUB_TESTS_INTEGRATION_CLI_CLI_TEST_UTIL_H_

#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace seghub::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs SEGHUB_BINARY with `args` (each shell-quoted), waits, captures both streams.
CommandResult RunSeghub(const std::vector<std::string>& args);

// <root>/models/<name>/model.json: the "affine" test model with scale -1 on a 64x64 squashed
// input, so dark objects on a bright background become foreground.
void WriteAffineModel(const std::filesystem::path& models_dir, const std::string& name);

struct Disc {
  cv::Point center;
  int radius = 0;
};
// 8-bit grey image, background 200, discs 40.
cv::Mat DrawDiscs(cv::Size size, const std::vector<Disc>& discs);
// CV_16UC1 labels: disc k gets k + 1.
cv::Mat DiscLabels(cv::Size size, const std::vector<Disc>& discs);
void WritePng(const std::filesystem::path& path, const cv::Mat& image);

std::string ReadText(const std::filesystem::path& path);
void WriteText(const std::filesystem::path& path, const std::string& text);
std::vector<std::string> SplitLines(const std::string& text);  // without empty lines

// A fresh empty directory under the temp dir, unique to this process and `tag`.
std::filesystem::path FreshTempDir(const std::string& tag);

}  // namespace seghub::testing

#endif  // SEGHUB_TESTS_INTEGRATION_CLI_CLI_TEST_UTIL_H_
