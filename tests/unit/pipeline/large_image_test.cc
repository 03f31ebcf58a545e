// An 8,000 x 8,000 image goes through the tiled pipeline within a bounded number of in-flight
// tiles, and every object drawn into it comes back as one polygon (slow tier).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/test_backend.h"
#include "pipeline/segment_service.h"

namespace seghub::pipeline {
namespace {

TEST(LargeImageTest, EightThousandSquaredCompletesTiled) {
  auto root =
      std::filesystem::temp_directory_path() / ("seghub_large_image_" + std::to_string(::getpid()));
  std::filesystem::create_directories(root / "tile");
  std::ofstream(root / "tile" / "model.json") << R"({"backend": "test", "architecture": "affine",
             "arch_params": {"scale": -1.0, "offset": 0.0},
             "batching": {"max_batch_size": 4},
             "input": {"channels": 3, "resize": "tile", "tile": 1024, "tile_overlap": 128,
                       "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}})";
  engine::BackendRegistry backends;
  backends.Register(engine::MakeTestBackend());
  metrics::Registry registry;
  engine::EngineOptions eo;
  eo.model_dir = root;
  eo.cpu_threads = 2;
  eo.memory_budget_bytes = 2LL << 30;
  auto engine = engine::Engine::Create(eo, &backends, &registry);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  (*engine)->Start();
  ASSERT_TRUE((*engine)->WaitReady(std::chrono::seconds(10)));

  // A 12 x 12 grid of dark discs; several straddle tile borders and overlaps.
  cv::Mat img(8000, 8000, CV_8UC1, cv::Scalar(210));
  int drawn = 0;
  for (int gy = 0; gy < 12; ++gy) {
    for (int gx = 0; gx < 12; ++gx) {
      cv::circle(img, {350 + gx * 660, 350 + gy * 660}, 120 + (gx * 7 + gy * 3) % 90,
                 cv::Scalar(35), cv::FILLED);
      ++drawn;
    }
  }
  std::vector<uint8_t> png;
  cv::imencode(".png", img, png);
  img.release();
  SegmentServiceOptions so;
  so.default_model = "tile";
  so.max_inflight_inputs = 8;
  so.limits.max_bytes = 64ull << 20;
  SegmentService service(engine->get(), so);
  SegmentRequest req;
  req.compute_metrics = true;
  auto r = service.SegmentSync(std::string(png.begin(), png.end()), req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->width, 8000);
  EXPECT_EQ(r->height, 8000);
  EXPECT_EQ(r->model_inputs, 81);  // 9 x 9 tiles of 1024 with 128 overlap
  EXPECT_EQ(static_cast<int>(r->polygons.size()), drawn);
  EXPECT_EQ(static_cast<int>(r->metrics.size()), drawn);
  for (const auto& [id, m] : r->metrics) EXPECT_GT(m.circularity, 0.9) << id;
  service.Shutdown();
  (*engine)->Shutdown();
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace seghub::pipeline
