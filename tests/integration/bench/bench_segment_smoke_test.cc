// Runs the real `seghub bench-segment` briefly against a test-backend model and checks the JSON
// report: every field present, counts and rates positive, ratios finite. Speed is not asserted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "server_process.h"

namespace seghub {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class BenchSegmentSmokeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("seghub_bench_segment_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "models" / "affine");
    // scale -1: dark discs in the synthetic image become confident foreground (sigmoid(-x)).
    std::ofstream(dir_ / "models" / "affine" / "model.json") << R"({
      "backend": "test", "architecture": "affine",
      "arch_params": {"scale": -1.0, "offset": 0.0},
      "input": {"channels": 3, "size": [256, 256], "resize": "stretch",
                "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}})";
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

void ExpectPositive(const json& j, const char* key) {
  ASSERT_TRUE(j.contains(key)) << key << " missing in " << j.dump();
  ASSERT_TRUE(j[key].is_number()) << key;
  const double v = j[key].get<double>();
  EXPECT_TRUE(std::isfinite(v)) << key;
  EXPECT_GT(v, 0) << key << " in " << j.dump();
}

void ExpectNonNegative(const json& j, const char* key) {
  ASSERT_TRUE(j.contains(key)) << key << " missing in " << j.dump();
  EXPECT_GE(j[key].get<double>(), 0) << key;
}

void ExpectLoadPoints(const json& points, bool http) {
  ASSERT_TRUE(points.is_array());
  ASSERT_EQ(points.size(), 2u) << points.dump();  // --clients 1,2
  for (size_t i = 0; i < points.size(); ++i) {
    const json& p = points[i];
    EXPECT_EQ(p["clients"].get<int>(), static_cast<int>(i) + 1);
    EXPECT_EQ(p["errors"].get<int>(), 0) << p.dump();
    for (const char* k : {"images", "images_per_s", "mean_ms", "p50_ms", "p99_ms"}) {
      ExpectPositive(p, k);
    }
    EXPECT_LE(p["p50_ms"].get<double>(), p["p99_ms"].get<double>());
    if (http) {
      ExpectPositive(p, "ratio_to_raw");
    } else {
      ExpectPositive(p, "compute_ms_per_image");
      ExpectPositive(p, "max_batch");
    }
  }
}

TEST_F(BenchSegmentSmokeTest, ReportsEveryFigure) {
  const fs::path out = dir_ / "bench.json";
  auto proc = testing::ServerProcess::Start(
      SEGHUB_BINARY, {"bench-segment", "--models", (dir_ / "models").string(), "--model", "affine",
                      "--seconds", "0.5", "--clients", "1,2", "--json-out", out.string()});
  ASSERT_TRUE(proc.ok()) << proc.status().ToString();
  auto rc = (*proc)->WaitExit(std::chrono::seconds(240));
  ASSERT_TRUE(rc.ok()) << rc.status().ToString() << "\n" << (*proc)->Output();
  ASSERT_EQ(*rc, 0) << (*proc)->Output();
  const std::string printed = (*proc)->Output();
  EXPECT_NE(printed.find("overhead / compute"), std::string::npos) << printed;

  std::ifstream in(out);
  ASSERT_TRUE(in.good()) << "no " << out;
  const json report = json::parse(in, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(report.is_discarded());
  EXPECT_EQ(report["model"], "affine");
  EXPECT_EQ(report["backend"], "test");
  EXPECT_EQ(report["inputs_per_image"].get<int>(), 1);
  EXPECT_EQ(report["image"]["width"].get<int>(), 1024);
  EXPECT_EQ(report["image"]["height"].get<int>(), 1024);
  ExpectPositive(report["image"], "bytes");
  ExpectPositive(report, "seconds");
  ExpectPositive(report, "hardware_threads");
  ExpectLoadPoints(report["raw"], /*http=*/false);
  ExpectLoadPoints(report["http"], /*http=*/true);

  const json& o = report["overhead"];
  for (const char* k : {"images", "decode_preprocess_ms", "decode_ms", "postprocess_ms", "json_ms",
                        "overhead_ms", "model_compute_ms", "overhead_ratio", "service_inference_ms",
                        "service_total_ms", "json_bytes"}) {
    ExpectPositive(o, k);
  }
  ExpectNonNegative(o, "service_queue_ms");
  EXPECT_LT(o["decode_ms"].get<double>(), o["decode_preprocess_ms"].get<double>())
      << "decode is one part of decode + preprocess";
  ExpectNonNegative(o, "polygons_per_image");
  EXPECT_NEAR(o["overhead_ms"].get<double>(),
              o["decode_preprocess_ms"].get<double>() + o["postprocess_ms"].get<double>() +
                  o["json_ms"].get<double>(),
              1e-6);
  EXPECT_GT(o["polygons_per_image"].get<double>(), 0) << "dark discs should be segmented";
}

}  // namespace
}  // namespace seghub
