#include "engine/model_config.h"

#include <gtest/gtest.h>

#include <fstream>

namespace seghub::engine {
namespace {

TEST(ModelConfigTest, ParsesAndDefaults) {
  auto j = nlohmann::json::parse(R"({
    "name": "unet", "architecture": "unet", "arch_params": {"features": [8, 16]},
    "input": {"channels": 3, "size": [1024, 1024], "mean": [0.485, 0.456, 0.406],
              "std": [0.229, 0.224, 0.225]},
    "batching": {"max_batch_size": 8, "preferred_batch_sizes": [4, 2], "max_queue_delay_us": 500},
    "instance_count": 2})");
  auto c = ParseModelConfig(j, "/tmp/models/unet");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->name, "unet");
  EXPECT_EQ(c->batching.preferred_batch_sizes, (std::vector<int>{2, 4}));
  EXPECT_EQ(c->reference_shape, (Shape{3, 1024, 1024}));
  EXPECT_EQ(c->instance_count, 2);
  EXPECT_FALSE(c->has_weights());
}

TEST(ModelConfigTest, InputNormalisationAndPolarity) {
  auto tiled = ParseModelConfig(nlohmann::json::parse(R"({
    "input": {"channels": 1, "resize": "tile", "tile": 256, "tile_overlap": 32,
              "normalize": "percentile", "invert": "auto"}})"),
                                "/m/nuclei");
  ASSERT_TRUE(tiled.ok()) << tiled.status().ToString();
  EXPECT_EQ(tiled->input.normalize, "percentile");
  EXPECT_EQ(tiled->input.invert, "auto");
  auto bad =
      ParseModelConfig(nlohmann::json::parse(R"({"input": {"normalize": "zscore"}})"), "/m/x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("input.normalize"), std::string::npos);
  // The stretch path is the Hub's exact preprocessing: no other normalisation there.
  auto stretch = ParseModelConfig(nlohmann::json::parse(R"({
    "input": {"size": [256, 256], "resize": "stretch", "invert": "auto"}})"),
                                  "/m/x");
  EXPECT_FALSE(stretch.ok());
}

TEST(ModelConfigTest, TestTimeFlipsNeedTiles) {
  auto tiled = ParseModelConfig(nlohmann::json::parse(R"({
    "input": {"resize": "tile", "tile": 256, "tile_overlap": 32, "flips": 4}})"),
                                "/m/nuclei");
  ASSERT_TRUE(tiled.ok()) << tiled.status().ToString();
  EXPECT_EQ(tiled->input.flips, 4);
  auto round_trip = ParseModelConfig(ModelConfigToJson(*tiled), "/m/nuclei");
  ASSERT_TRUE(round_trip.ok());
  EXPECT_EQ(round_trip->input.flips, 4);
  EXPECT_EQ(ParseModelConfig(nlohmann::json::parse("{}"), "/m/x")->input.flips, 1);
  auto eight = ParseModelConfig(nlohmann::json::parse(R"({
    "input": {"resize": "tile", "tile": 256, "flips": 8}})"),
                                "/m/x");
  ASSERT_TRUE(eight.ok()) << eight.status().ToString();
  EXPECT_EQ(eight->input.flips, 8);
  auto three = ParseModelConfig(nlohmann::json::parse(R"({
    "input": {"resize": "tile", "tile": 256, "flips": 3}})"),
                                "/m/x");
  ASSERT_FALSE(three.ok());
  EXPECT_NE(three.status().message().find("input.flips"), std::string::npos);
  auto stretch = ParseModelConfig(
      nlohmann::json::parse(R"({"input": {"size": [64, 64], "resize": "stretch", "flips": 2}})"),
      "/m/x");
  EXPECT_FALSE(stretch.ok());
}

TEST(ModelConfigTest, CoreInstancesNeedASecondOutputChannel) {
  auto cores = ParseModelConfig(nlohmann::json::parse(R"({"output": {"channels": 2},
    "postprocess": {"instances": "cores", "core_fraction": 0.4}})"),
                                "/m/nuclei");
  ASSERT_TRUE(cores.ok()) << cores.status().ToString();
  EXPECT_EQ(cores->postprocess.instances, "cores");
  auto round_trip = ParseModelConfig(ModelConfigToJson(*cores), "/m/nuclei");
  ASSERT_TRUE(round_trip.ok());
  EXPECT_DOUBLE_EQ(round_trip->postprocess.core_fraction, 0.4);
  EXPECT_DOUBLE_EQ(round_trip->postprocess.core_threshold, 0.5);
  auto one =
      ParseModelConfig(nlohmann::json::parse(R"({"postprocess": {"instances": "cores"}})"), "/m/x");
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.status().message().find("output.channels 2"), std::string::npos);
  EXPECT_FALSE(ParseModelConfig(nlohmann::json::parse(R"({"output": {"channels": 2},
    "postprocess": {"instances": "cores", "core_fraction": 1.0}})"),
                                "/m/x")
                   .ok());
  EXPECT_FALSE(ParseModelConfig(nlohmann::json::parse(R"({"output": {"channels": 2},
    "postprocess": {"instances": "cores", "core_threshold": 0}})"),
                                "/m/x")
                   .ok());
  EXPECT_FALSE(
      ParseModelConfig(nlohmann::json::parse(R"({"postprocess": {"instances": "seeds"}})"), "/m/x")
          .ok());
}

TEST(ModelConfigTest, LowThresholdRoundTripsAndIsChecked) {
  auto low = ParseModelConfig(
      nlohmann::json::parse(R"({"postprocess": {"instances": "watershed", "low_threshold": 0.3}})"),
      "/m/nuclei");
  ASSERT_TRUE(low.ok()) << low.status().ToString();
  auto round_trip = ParseModelConfig(ModelConfigToJson(*low), "/m/nuclei");
  ASSERT_TRUE(round_trip.ok());
  EXPECT_DOUBLE_EQ(round_trip->postprocess.low_threshold, 0.3);
  EXPECT_DOUBLE_EQ(ParseModelConfig(nlohmann::json::object(), "/m/x")->postprocess.low_threshold,
                   0.0);
  for (const char* bad :
       {R"({"postprocess": {"low_threshold": 1.0}})", R"({"postprocess": {"low_threshold": -0.1}})",
        R"({"postprocess": {"low_threshold": "0.3"}})"}) {
    EXPECT_FALSE(ParseModelConfig(nlohmann::json::parse(bad), "/m/x").ok()) << bad;
  }
}

TEST(ModelConfigTest, ObjectDiameterRescalingRoundTripsAndIsChecked) {
  auto cfg = ParseModelConfig(nlohmann::json::parse(R"({"input": {"resize": "tile", "tile": 256,
      "object_diameter": 30, "max_scale": 3}})"),
                              "/m/nuclei");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto round_trip = ParseModelConfig(ModelConfigToJson(*cfg), "/m/nuclei");
  ASSERT_TRUE(round_trip.ok()) << round_trip.status().ToString();
  EXPECT_DOUBLE_EQ(round_trip->input.object_diameter, 30);
  EXPECT_DOUBLE_EQ(round_trip->input.min_scale, 1);
  EXPECT_DOUBLE_EQ(round_trip->input.max_scale, 3);
  EXPECT_DOUBLE_EQ(ParseModelConfig(nlohmann::json::object(), "/m/x")->input.object_diameter, 0);
  for (const char* bad : {R"({"input": {"resize": "stretch", "object_diameter": 30}})",
                          R"({"input": {"resize": "tile", "object_diameter": -1}})",
                          R"({"input": {"resize": "tile", "min_scale": 0}})",
                          R"({"input": {"resize": "tile", "max_scale": 0.5}})",
                          R"({"input": {"resize": "tile", "object_diameter": "30"}})"}) {
    EXPECT_FALSE(ParseModelConfig(nlohmann::json::parse(bad), "/m/x").ok()) << bad;
  }
}

TEST(ModelConfigTest, SignalRegionPostprocessing) {
  auto defaults =
      ParseModelConfig(nlohmann::json::parse(R"({"task": "signal-segmentation"})"), "/m/pd");
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->postprocess.merge_gap, 0);
  EXPECT_EQ(defaults->postprocess.min_length, 1);
  auto set = ParseModelConfig(
      nlohmann::json::parse(R"({"postprocess": {"merge_gap": 5, "min_length": 10}})"), "/m/pd");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->postprocess.merge_gap, 5);
  EXPECT_EQ(set->postprocess.min_length, 10);
  auto round_trip = ParseModelConfig(ModelConfigToJson(*set), "/m/pd");
  ASSERT_TRUE(round_trip.ok()) << round_trip.status().ToString();
  EXPECT_EQ(round_trip->postprocess.min_length, 10);
  auto bad =
      ParseModelConfig(nlohmann::json::parse(R"({"postprocess": {"min_length": 0}})"), "/m/pd");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("min_length"), std::string::npos);
}

TEST(ModelConfigTest, AverageNegatedIsForSignalModelsOnly) {
  auto off = ParseModelConfig(nlohmann::json::parse(R"({"task": "signal-segmentation"})"), "/m");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->output.average_negated);
  auto on = ParseModelConfig(
      nlohmann::json::parse(
          R"({"task": "signal-segmentation", "output": {"average_negated": true}})"),
      "/m/pd");
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  EXPECT_TRUE(on->output.average_negated);
  auto round_trip = ParseModelConfig(ModelConfigToJson(*on), "/m/pd");
  ASSERT_TRUE(round_trip.ok()) << round_trip.status().ToString();
  EXPECT_TRUE(round_trip->output.average_negated);
  auto image = ParseModelConfig(
      nlohmann::json::parse(R"({"task": "segmentation", "output": {"average_negated": true}})"),
      "/m/x");
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.status().message().find("average_negated"), std::string::npos);
  auto wrong_type = ParseModelConfig(
      nlohmann::json::parse(
          R"({"task": "signal-segmentation", "output": {"average_negated": "yes"}})"),
      "/m/pd");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.status().message().find("average_negated"), std::string::npos);
}

TEST(ModelConfigTest, RejectsBadFieldsWithAClearMessage) {
  auto bad_type = ParseModelConfig(nlohmann::json::parse(R"({"instance_count": "two"})"), "/m/x");
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.status().message().find("instance_count"), std::string::npos);
  auto bad_pref = ParseModelConfig(
      nlohmann::json::parse(R"({"batching": {"max_batch_size": 4, "preferred_batch_sizes": [8]}})"),
      "/m/x");
  EXPECT_EQ(bad_pref.status().code(), StatusCode::kInvalidArgument);
  auto bad_precision = ParseModelConfig(nlohmann::json::parse(R"({"precision": "int3"})"), "/m/x");
  EXPECT_FALSE(bad_precision.ok());
}

TEST(ModelConfigTest, ScanSkipsBrokenFolders) {
  auto root = std::filesystem::temp_directory_path() / "seghub_model_config_test";
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root / "good");
  std::filesystem::create_directories(root / "broken");
  std::filesystem::create_directories(root / "not_a_model");
  std::ofstream(root / "good" / "model.json") << R"({"backend": "test"})";
  std::ofstream(root / "broken" / "model.json") << "{ not json";
  std::vector<std::string> errors;
  auto models = ScanModelRepository(root, &errors);
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0].name, "good");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("broken"), std::string::npos);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace seghub::engine
