#include "engine/tuner.h"

#include <gtest/gtest.h>

#include "engine/test_backend.h"

namespace seghub::engine {
namespace {

ModelConfig TestConfig(const std::filesystem::path& dir, int64_t delay_us, int64_t per_sample_us) {
  auto j = nlohmann::json::parse(R"({"backend":"test","reference_shape":[1,4,4],
    "batching":{"max_batch_size":8}})");
  j["arch_params"] = {{"delay_us", delay_us}, {"per_sample_us", per_sample_us}};
  auto c = ParseModelConfig(j, dir);
  EXPECT_TRUE(c.ok());
  return *c;
}

TEST(TunerTest, PicksTheFastestBatchSizeAndStoresIt) {
  auto dir = std::filesystem::temp_directory_path() / "seghub_tuner_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto backend = MakeTestBackend();
  // A fixed 4 ms cost per batch plus 0.2 ms per sample: bigger batches are faster per sample.
  ModelConfig c = TestConfig(dir, 4000, 200);
  TuneOptions o;
  o.cpu_threads = 1;
  o.seconds_per_point = 0.05;
  auto r = TuneModel(c, backend.get(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->points.size(), 4u);  // batches 1, 2, 4, 8 with one instance
  EXPECT_EQ(r->best.batch_size, 8);
  EXPECT_GT(r->best.samples_per_second, r->points.front().samples_per_second * 2);
  ASSERT_TRUE(SaveTuning(c, *r).ok());
  ModelConfig applied = TestConfig(dir, 0, 0);
  applied.batching.max_batch_size = 1;
  ASSERT_TRUE(ApplyTuning("cpu", &applied));
  EXPECT_EQ(applied.batching.max_batch_size, 8);
  EXPECT_FALSE(ApplyTuning("cuda:0", &applied));
  std::filesystem::remove_all(dir);
}

TEST(TunerTest, RespectsTheLatencyLimit) {
  auto backend = MakeTestBackend();
  ModelConfig c = TestConfig(std::filesystem::temp_directory_path(), 4000, 2000);
  TuneOptions o;
  o.cpu_threads = 1;
  o.seconds_per_point = 0.05;
  o.max_batch_latency_ms = 9;  // batch 4 takes ~12 ms, batch 2 ~8 ms
  auto r = TuneModel(c, backend.get(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->best.batch_size, 2);
}

}  // namespace
}  // namespace seghub::engine
