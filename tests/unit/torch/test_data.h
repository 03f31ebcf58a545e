// Test helpers for the Hub reference vectors (torch-free).
#ifndef SEGHUB_TESTS_UNIT_TORCH_TEST_DATA_H_
#define SEGHUB_TESTS_UNIT_TORCH_TEST_DATA_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace seghub::testing {

inline std::filesystem::path HubDir() {
  return std::filesystem::path(SEGHUB_SHARED_DIR) / "reference" / "hub-models";
}

// Raw little-endian float32 file; empty if unreadable.
inline std::vector<float> ReadF32(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> out(bytes.size() / sizeof(float));
  std::copy(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(out.size() * 4),
            reinterpret_cast<char*>(out.data()));
  return out;
}

struct TsvEntry {
  std::string name;
  std::vector<int64_t> shape;
};

// `<model>_state_dict.tsv`: index, name, shape "AxBxC", dtype, numel, kind.
inline std::vector<TsvEntry> ReadStateDictTsv(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<TsvEntry> out;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string index, shape;
    TsvEntry e;
    fields >> index >> e.name >> shape;
    std::istringstream dims(shape);
    for (std::string d; std::getline(dims, d, 'x');) e.shape.push_back(std::stoll(d));
    out.push_back(e);
  }
  return out;
}

// test_vectors.md §4 acceptance: max abs diff <= rel * max(1, max|ref|), mean abs diff <= mean_tol,
// and equal signs wherever |ref| exceeds the max-abs tolerance.
struct Agreement {
  double max_abs = 0, mean_abs = 0, max_tol = 0;
  int64_t sign_flips = 0;
  bool size_ok = false;
};

inline Agreement Compare(const std::vector<float>& got, const std::vector<float>& ref,
                         double rel = 5e-5) {
  Agreement a;
  a.size_ok = !ref.empty() && got.size() == ref.size();
  if (!a.size_ok) return a;
  double ref_max = 0;
  for (float r : ref) ref_max = std::max(ref_max, std::fabs(static_cast<double>(r)));
  a.max_tol = rel * std::max(1.0, ref_max);
  double sum = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - ref[i]);
    a.max_abs = std::max(a.max_abs, std::isnan(d) ? 1e30 : d);
    sum += d;
    if (std::fabs(ref[i]) > a.max_tol && (got[i] > 0) != (ref[i] > 0)) ++a.sign_flips;
  }
  a.mean_abs = sum / static_cast<double>(ref.size());
  return a;
}

}  // namespace seghub::testing

#endif  // SEGHUB_TESTS_UNIT_TORCH_TEST_DATA_H_
