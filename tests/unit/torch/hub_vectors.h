// Torch-side helpers for checking a C++-defined network against the Hub's test vectors.
#ifndef SEGHUB_TESTS_UNIT_TORCH_HUB_VECTORS_H_
#define SEGHUB_TESTS_UNIT_TORCH_HUB_VECTORS_H_

#include <gtest/gtest.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "models/network.h"
#include "test_data.h"

namespace seghub::testing {

inline at::Tensor ForwardNet(models::NetworkSpec& net, const at::Tensor& x) {
  c10::InferenceMode guard;
  net.module.eval();
  return net.module.forward({x}).toTensor().contiguous();
}

inline at::Tensor LoadF32Tensor(const std::string& file, const std::vector<int64_t>& shape) {
  std::vector<float> v = ReadF32(HubDir() / file);
  EXPECT_EQ(static_cast<int64_t>(v.size()), c10::multiply_integers(shape)) << file;
  if (static_cast<int64_t>(v.size()) != c10::multiply_integers(shape)) return torch::zeros(shape);
  return torch::from_blob(v.data(), shape, at::kFloat).clone();
}

// Raw little-endian float64 file; empty if unreadable.
inline std::vector<double> ReadF64(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<double> out(bytes.size() / sizeof(double));
  std::copy(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(out.size() * 8),
            reinterpret_cast<char*>(out.data()));
  return out;
}

inline std::vector<float> ToFloatVector(const at::Tensor& t) {
  at::Tensor c = t.to(at::kFloat).contiguous();
  const float* p = c.data_ptr<float>();
  return {p, p + c.numel()};
}

// Max |got - ref| over a float64 output and its _f64ref file (inf on size mismatch).
inline double MaxAbsDiffF64(const at::Tensor& got, const std::vector<double>& ref) {
  at::Tensor c = got.to(at::kDouble).contiguous();
  if (ref.empty() || c.numel() != static_cast<int64_t>(ref.size())) return INFINITY;
  const double* p = c.data_ptr<double>();
  double m = 0;
  for (size_t i = 0; i < ref.size(); ++i) m = std::max(m, std::fabs(p[i] - ref[i]));
  return std::isnan(m) ? INFINITY : m;
}

inline double MaxAbs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

inline void ExpectParamsEqualTsv(const std::vector<models::ParamSpec>& params,
                                 const std::string& tsv) {
  const auto expected = ReadStateDictTsv(HubDir() / tsv);
  ASSERT_EQ(params.size(), expected.size()) << tsv;
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(params[i].hub_name, expected[i].name) << tsv << " index " << i;
    EXPECT_EQ(params[i].shape, expected[i].shape) << expected[i].name;
  }
}

// One row of test_vectors.md §4.
struct HubCase {
  std::string input, output, output_f64;
  std::vector<int64_t> in_shape, out_shape;
};

}  // namespace seghub::testing

#endif  // SEGHUB_TESTS_UNIT_TORCH_HUB_VECTORS_H_
