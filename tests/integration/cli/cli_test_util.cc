#include "cli_test_util.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <stdexcept>

namespace seghub::testing {
namespace fs = std::filesystem;
namespace {

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q.append(c == '\'' ? std::string("'\\''") : std::string(1, c));
  return q.append("'");
}

}  // namespace

CommandResult RunSeghub(const std::vector<std::string>& args) {
  const fs::path dir = FreshTempDir("run");
  std::string cmd = ShellQuote(SEGHUB_BINARY);
  // append(), not "literal" + string: GCC 12 warns (falsely, -Wrestrict) about the latter.
  for (const std::string& a : args) cmd.append(" ").append(ShellQuote(a));
  cmd.append(" >").append(ShellQuote((dir / "out").string()));
  cmd.append(" 2>").append(ShellQuote((dir / "err").string())).append(" </dev/null");
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadText(dir / "out");
  r.err = ReadText(dir / "err");
  fs::remove_all(dir);
  return r;
}

void WriteAffineModel(const fs::path& models_dir, const std::string& name) {
  fs::create_directories(models_dir / name);
  WriteText(models_dir / name / "model.json",
            R"({"backend": "test", "architecture": "affine",
                "arch_params": {"scale": -1.0, "offset": 0.0},
                "input": {"channels": 3, "size": [64, 64], "resize": "stretch",
                          "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}})");
}

cv::Mat DrawDiscs(cv::Size size, const std::vector<Disc>& discs) {
  cv::Mat m(size, CV_8UC1, cv::Scalar(200));
  for (const Disc& d : discs) cv::circle(m, d.center, d.radius, cv::Scalar(40), cv::FILLED);
  return m;
}

cv::Mat DiscLabels(cv::Size size, const std::vector<Disc>& discs) {
  cv::Mat m(size, CV_16UC1, cv::Scalar(0));
  for (size_t k = 0; k < discs.size(); ++k) {
    cv::circle(m, discs[k].center, discs[k].radius, cv::Scalar(static_cast<double>(k + 1)),
               cv::FILLED);
  }
  return m;
}

void WritePng(const fs::path& path, const cv::Mat& image) {
  if (!cv::imwrite(path.string(), image)) throw std::runtime_error("cannot write " + path.string());
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

fs::path FreshTempDir(const std::string& tag) {
  static int counter = 0;
  const fs::path dir = fs::temp_directory_path() / ("seghub_cli_" + std::to_string(::getpid()) +
                                                    "_" + tag + "_" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace seghub::testing
