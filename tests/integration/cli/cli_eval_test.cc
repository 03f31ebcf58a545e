// `seghub eval` end to end: stored predictions with known answers (perfect, one object missed),
// the test-backend model on synthetic discs, and a smoke run on real nuclei images.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"

namespace seghub::testing {
namespace {
namespace fs = std::filesystem;

const cv::Size kSize{200, 160};
const std::vector<Disc> kTwoDiscs = {{{50, 80}, 30}, {{140, 80}, 35}};
const std::vector<Disc> kOneDisc = {{{100, 80}, 40}};

class CliEvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = FreshTempDir("eval");
    for (const char* d : {"images", "labels", "pred"}) fs::create_directories(root_ / d);
    WriteAffineModel(root_ / "models", "discs");
    WritePng(root_ / "images" / "two.png", DrawDiscs(kSize, kTwoDiscs));
    WritePng(root_ / "images" / "one.png", DrawDiscs(kSize, kOneDisc));
    WritePng(root_ / "labels" / "two.png", DiscLabels(kSize, kTwoDiscs));
    WritePng(root_ / "labels" / "one.png", DiscLabels(kSize, kOneDisc));
  }
  void TearDown() override { fs::remove_all(root_); }

  CommandResult Eval(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"eval", (root_ / "images").string(),
                                     (root_ / "labels").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunSeghub(args);
  }
  CommandResult EvalWithModel(const fs::path& images, const fs::path& labels) {
    return RunSeghub({"eval", images.string(), labels.string(), "--models",
                      (root_ / "models").string(), "--model", "discs", "--threads", "2", "--json"});
  }

  fs::path root_;
};

TEST_F(CliEvalTest, PredictionEqualToTruthScoresOne) {
  fs::copy_file(root_ / "labels" / "two.png", root_ / "pred" / "two.png");
  // The name `seghub segment --format labels` writes is found too.
  fs::copy_file(root_ / "labels" / "one.png", root_ / "pred" / "one.labels.png");
  CommandResult r = Eval({"--pred", (root_ / "pred").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.at("images").size(), 2u);
  for (const auto& image : j["images"]) {
    for (const char* t : {"0.5", "0.75", "0.9"}) EXPECT_DOUBLE_EQ(image["ap"][t], 1.0) << image;
    EXPECT_DOUBLE_EQ(image["dice"], 1.0);
    EXPECT_DOUBLE_EQ(image["aji"], 1.0);
  }
  EXPECT_EQ(j["overall"]["num_images"], 2);
  EXPECT_DOUBLE_EQ(j["overall"]["ap"]["0.9"], 1.0);
}

TEST_F(CliEvalTest, MissedObjectHalvesAveragePrecision) {
  // "two" predicts only its first disc: TP 1, FN 1 -> AP 1/2; "one" is perfect. Pooled over both
  // images TP 2, FN 1 -> 2/3; the mean of the per-image APs is 3/4.
  WritePng(root_ / "pred" / "two.png", DiscLabels(kSize, {kTwoDiscs[0]}));
  WritePng(root_ / "pred" / "one.png", DiscLabels(kSize, kOneDisc));
  CommandResult r = Eval({"--pred", (root_ / "pred").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  for (const auto& image : j.at("images")) {
    const double expected = fs::path(image["image"].get<std::string>()).stem() == "two" ? 0.5 : 1;
    EXPECT_DOUBLE_EQ(image["ap"]["0.5"], expected) << image;
  }
  EXPECT_NEAR(j["overall"]["ap"]["0.5"], 2.0 / 3.0, 1e-9);
  EXPECT_NEAR(j["overall"]["mean_ap"]["0.5"], 0.75, 1e-9);
  // The second disc of "two" has no prediction over it: one missed, nothing else.
  EXPECT_EQ(j["overall"]["errors"]["missed"], 1) << j["overall"];
  EXPECT_EQ(j["overall"]["errors"]["merged"], 0);
  EXPECT_EQ(j["overall"]["errors"]["split"], 0);
  EXPECT_EQ(j["overall"]["errors"]["spurious"], 0);

  // The table has a row per image, the mean and pooled rows, and the error breakdown.
  r = Eval({"--pred", (root_ / "pred").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 6u) << r.out;
  EXPECT_NE(lines[0].find("AP@0.75"), std::string::npos);
  EXPECT_NE(lines[4].find("pooled"), std::string::npos);
  EXPECT_NE(lines[4].find("0.667"), std::string::npos) << lines[4];
  EXPECT_NE(lines[5].find("1 missed"), std::string::npos) << lines[5];
}

TEST_F(CliEvalTest, MissingGroundTruthOrPredictionFailsThatImage) {
  WritePng(root_ / "images" / "orphan.png", DrawDiscs(kSize, kOneDisc));
  fs::copy_file(root_ / "labels" / "two.png", root_ / "pred" / "two.png");
  CommandResult r = Eval({"--pred", (root_ / "pred").string(), "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("orphan.png: no ground truth"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("one.png: no prediction"), std::string::npos) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["overall"]["num_images"], 1);
  EXPECT_EQ(Eval({"--pred", (root_ / "no-such-dir").string()}).exit_code, 2);
}

TEST_F(CliEvalTest, ModelOnSyntheticDiscsFindsEveryObject) {
  CommandResult r = EvalWithModel(root_ / "images", root_ / "labels");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["overall"]["num_images"], 2);
  // A 64x64 squash moves each outline by a pixel or two: every disc still matches at IoU 0.75.
  EXPECT_DOUBLE_EQ(j["overall"]["ap"]["0.75"], 1.0) << j.dump(2);
  EXPECT_GT(j["overall"]["pooled_dice"], 0.95);
}

TEST_F(CliEvalTest, ModelOnRealNucleiGivesScoresInRange) {
  const fs::path data = fs::path(SEGHUB_SHARED_DIR) / "data" / "nuclei" / "dsb2018";
  if (!fs::exists(data / "images")) GTEST_SKIP() << "no " << data;
  const fs::path images = root_ / "real";
  fs::create_directories(images);
  int linked = 0;
  std::vector<fs::path> all;
  for (const auto& e : fs::directory_iterator(data / "images")) all.push_back(e.path());
  std::sort(all.begin(), all.end());
  for (const fs::path& p : all) {
    if (linked++ == 3) break;
    fs::create_symlink(p, images / p.filename());
  }
  CommandResult r = EvalWithModel(images, data / "labels");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.at("images").size(), 3u);
  EXPECT_EQ(j["overall"]["num_images"], 3);
  for (const auto& image : j["images"]) {
    EXPECT_GT(image["num_true"], 0) << image;
    for (const char* key : {"dice", "iou", "aji"}) {
      EXPECT_GE(image[key], 0.0) << key;
      EXPECT_LE(image[key], 1.0) << key;
    }
    for (const auto& [t, ap] : image["ap"].items()) {
      EXPECT_GE(ap, 0.0) << t;
      EXPECT_LE(ap, 1.0) << t;
    }
  }
}

// The shipped nuclei model (models/nuclei, trained on U2OS train + NIH3T3) on the first two
// U2OS test images: it must find the nuclei, not merely run. Its model card reports about 0.8
// AP@0.5 over all ten test images; the floor here is far below that so CPU noise cannot matter,
// but untrained or broken weights (AP near 0) fail.
TEST_F(CliEvalTest, ShippedNucleiModelFindsNucleiOnHeldOutImages) {
  const fs::path data = fs::path(SEGHUB_SHARED_DIR) / "data" / "nuclei" / "u2os" / "test";
  const fs::path models = fs::path(SEGHUB_SOURCE_DIR) / "models";
  if (!fs::exists(data / "images")) GTEST_SKIP() << "no " << data;
  ASSERT_TRUE(fs::exists(models / "nuclei" / "weights.safetensors"));
  const fs::path images = root_ / "u2os";
  fs::create_directories(images);
  std::vector<fs::path> all;
  for (const auto& e : fs::directory_iterator(data / "images")) all.push_back(e.path());
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < 2 && i < all.size(); ++i) {
    fs::create_symlink(all[i], images / all[i].filename());
  }
  CommandResult r = RunSeghub({"eval", images.string(), (data / "labels").string(), "--models",
                               models.string(), "--model", "nuclei", "--threads", "2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["overall"]["num_images"], 2);
  EXPECT_GT(j["overall"]["pooled_dice"], 0.85) << j["overall"].dump();
  EXPECT_GT(j["overall"]["ap"]["0.5"], 0.5) << j["overall"].dump();
}

}  // namespace
}  // namespace seghub::testing
