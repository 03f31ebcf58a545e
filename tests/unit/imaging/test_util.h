// Helpers shared by the imaging unit tests: file bytes, encoding, the shared data folder.
#ifndef SEGHUB_TESTS_UNIT_IMAGING_TEST_UTIL_H_
#define SEGHUB_TESTS_UNIT_IMAGING_TEST_UTIL_H_

#include <cstdint>
#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

namespace seghub::imaging::testing {

inline std::string SharedDir() { return SEGHUB_SHARED_DIR; }

// Empty when the file is missing; callers GTEST_SKIP then (the shared folder is optional).
inline std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::vector<uint8_t> Encode(const std::string& ext, const cv::Mat& image,
                                   const std::vector<int>& params = {}) {
  std::vector<uint8_t> out;
  cv::imencode(ext, image, out, params);
  return out;
}

}  // namespace seghub::imaging::testing

#endif  // SEGHUB_TESTS_UNIT_IMAGING_TEST_UTIL_H_
