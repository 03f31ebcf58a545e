// `seghub segment` end to end: every output format checked against synthetic discs whose count
// and size are known, resuming (skip, redo one, dataset files rebuilt), per-image errors, JSON
// lines on stdout, and usage errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "cli_test_util.h"
#include "imaging/imagej_roi.h"

namespace seghub::testing {
namespace {
namespace fs = std::filesystem;

const cv::Size kSize{256, 192};
// Name -> discs; "c.PNG" also checks that extensions match case-insensitively.
const std::map<std::string, std::vector<Disc>> kImages = {
    {"a.png", {{{128, 96}, 40}}},
    {"b.png", {{{70, 96}, 35}, {{190, 96}, 35}}},
    {"c.PNG", {{{50, 60}, 25}, {{130, 60}, 25}, {{200, 140}, 30}}},
};
const char kAllFormats[] = "coco,csv,labels,overlay,imagej,geojson,yolo";

class CliSegmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = FreshTempDir("segment");
    WriteAffineModel(root_ / "models", "discs");
    fs::create_directories(root_ / "images");
    for (const auto& [name, discs] : kImages) {
      WritePng(root_ / "images" / name, DrawDiscs(kSize, discs));
    }
    WriteText(root_ / "images" / "notes.txt", "not an image, must be ignored");
  }
  void TearDown() override { fs::remove_all(root_); }

  CommandResult Segment(const std::vector<std::string>& extra, const fs::path& input) {
    std::vector<std::string> args = {
        "segment", "--models", (root_ / "models").string(), "--model", "discs", "--threads", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(input.string());
    return RunSeghub(args);
  }
  CommandResult SegmentAll() {
    return Segment({"--out", out().string(), "--format", kAllFormats}, root_ / "images");
  }
  fs::path out() const { return root_ / "out"; }

  // Every file in --out with its contents.
  std::map<std::string, std::string> Snapshot() const {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::directory_iterator(out())) {
      files[e.path().filename().string()] = ReadText(e.path());
    }
    return files;
  }

  fs::path root_;
};

// Names of files that differ, appeared or vanished between two snapshots (short failure text).
std::vector<std::string> Changed(const std::map<std::string, std::string>& before,
                                 const std::map<std::string, std::string>& after) {
  std::vector<std::string> changed;
  for (const auto& [name, text] : after) {
    auto it = before.find(name);
    if (it == before.end() || it->second != text) changed.push_back(name);
  }
  for (const auto& [name, text] : before) {
    if (after.count(name) == 0) changed.push_back(name + " (gone)");
  }
  return changed;
}

int64_t CountExternal(const nlohmann::json& per_image) {
  int64_t n = 0;
  for (const auto& p : per_image.at("polygons")) n += p.at("type") == "external" ? 1 : 0;
  return n;
}

void CheckPerImageOutputs(const fs::path& out, const std::string& stem, size_t discs_count,
                          double disc_area) {
  SCOPED_TRACE(stem);
  const nlohmann::json j = nlohmann::json::parse(ReadText(out / (stem + ".json")));
  EXPECT_EQ(CountExternal(j), static_cast<int64_t>(discs_count));
  EXPECT_EQ(j.at("image_size").at("width"), kSize.width);
  EXPECT_EQ(j.at("model_used"), "discs");

  const cv::Mat labels = cv::imread((out / (stem + ".labels.png")).string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(labels.type(), CV_16UC1);
  ASSERT_EQ(labels.size(), kSize);
  std::set<int> values;
  for (int y = 0; y < labels.rows; ++y) {
    for (int x = 0; x < labels.cols; ++x) values.insert(labels.at<uint16_t>(y, x));
  }
  std::set<int> expected_values = {0};
  for (size_t k = 1; k <= discs_count; ++k) expected_values.insert(static_cast<int>(k));
  EXPECT_EQ(values, expected_values);
  // The 64x64 squash moves outlines by a pixel or two; the total area stays within 10%.
  EXPECT_NEAR(cv::countNonZero(labels), disc_area, 0.1 * disc_area);

  const cv::Mat overlay = cv::imread((out / (stem + ".overlay.png")).string(), cv::IMREAD_COLOR);
  EXPECT_EQ(overlay.size(), kSize);

  const nlohmann::json geo = nlohmann::json::parse(ReadText(out / (stem + ".geojson")));
  EXPECT_EQ(geo.at("type"), "FeatureCollection");
  EXPECT_EQ(geo.at("features").size(), discs_count);

  EXPECT_EQ(SplitLines(ReadText(out / (stem + ".txt"))).size(), discs_count);

  const std::string zip = ReadText(out / (stem + ".roi.zip"));
  auto rois = imaging::DecodeImageJRoiZip(std::vector<uint8_t>(zip.begin(), zip.end()));
  ASSERT_TRUE(rois.ok()) << rois.status().ToString();
  EXPECT_EQ(rois->size(), discs_count);
}

TEST_F(CliSegmentTest, WritesEveryFormatThenResumes) {
  CommandResult r = SegmentAll();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "") << "stdout is for --json only";
  EXPECT_NE(r.err.find("3 ok, 0 failed, 0 skipped"), std::string::npos) << r.err;

  size_t total_discs = 0;
  for (const auto& [name, discs] : kImages) {
    double area = 0;
    for (const Disc& d : discs) area += M_PI * d.radius * d.radius;
    CheckPerImageOutputs(out(), fs::path(name).stem().string(), discs.size(), area);
    total_discs += discs.size();
  }
  const nlohmann::json coco = nlohmann::json::parse(ReadText(out() / "coco.json"));
  EXPECT_EQ(coco.at("images").size(), kImages.size());
  EXPECT_EQ(coco.at("annotations").size(), total_discs);
  const auto csv = SplitLines(ReadText(out() / "metrics.csv"));
  ASSERT_EQ(csv.size(), 1 + total_discs);
  EXPECT_EQ(csv[0].rfind("image,polygon_id,class,confidence,unit,Area", 0), 0u) << csv[0];

  // A second run finds everything done and changes nothing (dataset files are rebuilt equal).
  const auto before = Snapshot();
  r = SegmentAll();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("skipping 3 of 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("0 ok, 0 failed, 3 skipped"), std::string::npos) << r.err;
  EXPECT_EQ(Changed(before, Snapshot()), std::vector<std::string>{});

  // Only the image whose JSON is gone is redone; coco.json and metrics.csv cover all three.
  const auto a_time = fs::last_write_time(out() / "a.json");
  const nlohmann::json b_before = nlohmann::json::parse(before.at("b.json"));
  fs::remove(out() / "b.json");
  r = SegmentAll();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("1 ok, 0 failed, 2 skipped"), std::string::npos) << r.err;
  EXPECT_EQ(fs::last_write_time(out() / "a.json"), a_time);
  const nlohmann::json b_after = nlohmann::json::parse(ReadText(out() / "b.json"));
  EXPECT_EQ(b_after.at("polygons"), b_before.at("polygons"));
  EXPECT_EQ(ReadText(out() / "coco.json"), before.at("coco.json"));
  EXPECT_EQ(ReadText(out() / "metrics.csv"), before.at("metrics.csv"));
}

TEST_F(CliSegmentTest, CorruptFilesFailAloneWithExitCode1) {
  WriteText(root_ / "images" / "corrupt.png", "\x89PNG\r\n\x1a\n this is not really a png");
  WriteText(root_ / "images" / "empty.jpg", "");
  CommandResult r = Segment({"--out", out().string()}, root_ / "images");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("corrupt.png:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("empty.jpg:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("3 ok, 2 failed"), std::string::npos) << r.err;
  for (const char* stem : {"a", "b", "c"})
    EXPECT_TRUE(fs::exists(out() / (std::string(stem) + ".json")));
  EXPECT_FALSE(fs::exists(out() / "corrupt.json"));
  EXPECT_FALSE(fs::exists(out() / "empty.json"));
  // Default formats include the dataset files, covering the good images only.
  const nlohmann::json coco = nlohmann::json::parse(ReadText(out() / "coco.json"));
  EXPECT_EQ(coco.at("images").size(), 3u);
}

TEST_F(CliSegmentTest, JsonLinesOnStdout) {
  WriteText(root_ / "images" / "corrupt.png", "garbage");
  CommandResult r = Segment({"--json"}, root_ / "images");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), kImages.size() + 1) << r.out;
  int ok = 0, failed = 0;
  for (const std::string& line : lines) {
    const nlohmann::json j = nlohmann::json::parse(line);  // throws (fails the test) if not JSON
    ASSERT_TRUE(j.contains("file"));
    const std::string name = fs::path(j["file"].get<std::string>()).filename().string();
    if (j.at("success").get<bool>()) {
      ++ok;
      EXPECT_EQ(CountExternal(j), static_cast<int64_t>(kImages.at(name).size())) << name;
    } else {
      ++failed;
      EXPECT_EQ(name, "corrupt.png");
      EXPECT_FALSE(j.at("error").get<std::string>().empty());
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(failed, 1);
}

TEST_F(CliSegmentTest, SingleFileWithOptions) {
  // --no-holes and --min-area reach the service: a min area above every disc leaves nothing.
  CommandResult r =
      Segment({"--json", "--min-area", "1e6", "--no-holes"}, root_ / "images" / "a.png");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(lines[0]).at("polygons").size(), 0u);
}

TEST_F(CliSegmentTest, UsageErrorsExit2) {
  EXPECT_EQ(Segment({"--json"}, root_ / "missing").exit_code, 2);
  EXPECT_EQ(Segment({"--out", out().string(), "--format", "coco,tiff"}, root_ / "images").exit_code,
            2);
  EXPECT_EQ(Segment({}, root_ / "images").exit_code, 2) << "neither --out nor --json";
  EXPECT_EQ(Segment({"--json", "--no-such-flag"}, root_ / "images").exit_code, 2);
  EXPECT_EQ(RunSeghub({"segment", "--models", (root_ / "models").string(), "--model", "nope",
                       "--json", (root_ / "images").string()})
                .exit_code,
            2);
}

}  // namespace
}  // namespace seghub::testing
