#include "hub/export_builder.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <sstream>

#include "test_util.h"

namespace seghub::hub {
namespace {

namespace fs = std::filesystem;
using testing::ReadZip;
using testing::XmlProblem;

imaging::Polygon Ring(int id, float x0, float y0, float size,
                      imaging::PolygonType type = imaging::PolygonType::kExternal,
                      std::optional<int> parent = std::nullopt) {
  imaging::Polygon p;
  p.id = id;
  p.points = {{x0, y0}, {x0 + size, y0}, {x0 + size, y0 + size}, {x0, y0 + size}};
  p.type = type;
  p.parent_id = parent;
  p.area = size * size;
  return p;
}

std::string Png(int width, int height) {
  cv::Mat image(height, width, CV_8UC3, cv::Scalar(30, 60, 90));
  cv::circle(image, {width / 2, height / 2}, width / 4, cv::Scalar(200, 200, 200), -1);
  std::vector<uint8_t> out;
  cv::imencode(".png", image, out);
  return {out.begin(), out.end()};
}

// Two images with the same stem, one with a hole, one with two objects; a third without
// polygons. Originals are small PNGs.
std::vector<ExportImage> Images() {
  std::vector<ExportImage> images(3);
  images[0] = {"id-a", "a.png", 64,  48,
               {},     "hrnet", 0.5, [] { return Result<std::string>(Png(64, 48)); }};
  images[0].polygons = {Ring(1, 10, 10, 30),
                        Ring(2, 20, 20, 8, imaging::PolygonType::kInternal, 1)};
  images[1] = {"id-b", "A.tif", 64,  48,
               {},     "hrnet", 0.5, [] { return Result<std::string>(Png(64, 48)); }};
  images[1].polygons = {Ring(1, 2, 2, 10), Ring(2, 30, 20, 12)};
  images[1].polygons[1].class_name = "cell";
  images[2] = {"id-c", "../../etc/pass wd?.jpeg", 32, 32, {}, "unet", 0.4, nullptr};
  return images;
}

class ExportBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("seghub_export_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::map<std::string, std::string> Export(const ExportOptions& options,
                                            const std::vector<ExportImage>& images = Images()) {
    auto size = WriteExportZip("Project X", images, options, dir_ / "out.zip", nullptr, nullptr);
    EXPECT_TRUE(size.ok()) << size.status().ToString();
    if (!size.ok()) return {};
    EXPECT_EQ(*size, static_cast<int64_t>(fs::file_size(dir_ / "out.zip")));
    std::ifstream in(dir_ / "out.zip", std::ios::binary);
    return ReadZip({std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()});
  }

  std::vector<std::string> DirEntries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    return out;
  }

  fs::path dir_;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(ExportOptionsTest, Validation) {
  EXPECT_EQ(ValidateExportOptions({}).code(), StatusCode::kInvalidArgument);
  ExportOptions o;
  o.formats = {"coco", "pdf"};
  const Status s = ValidateExportOptions(o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'pdf'"), std::string::npos);
  o.formats = ExportFormatNames();
  EXPECT_TRUE(ValidateExportOptions(o).ok());
  o.um_per_px = -1;
  EXPECT_FALSE(ValidateExportOptions(o).ok());
}

TEST(ArchiveNamesTest, SanitisesAndDedupes) {
  const auto names = MakeArchiveNames({"a.png", "a.tif", "A.jpg", "a_2.png", "../../x/y.png",
                                       "C:\\data\\scan 01 (1).tif", "...", "", "con.png",
                                       "µm-image.png", "bad\xff.png", "noext", "archive.tar.gz"});
  const std::vector<std::pair<std::string, std::string>> want = {{"a", "a.png"},
                                                                 {"a_2", "a_2.tif"},
                                                                 {"A_3", "A_3.jpg"},
                                                                 {"a_2_2", "a_2_2.png"},
                                                                 {"y", "y.png"},
                                                                 {"scan_01_1", "scan_01_1.tif"},
                                                                 {"image", "image"},
                                                                 {"image_2", "image_2"},
                                                                 {"con_", "con_.png"},
                                                                 {"µm-image", "µm-image.png"},
                                                                 {"bad", "bad.png"},
                                                                 {"noext", "noext"},
                                                                 {"archive.tar", "archive.tar.gz"}};
  ASSERT_EQ(names.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(names[i].stem, want[i].first) << i;
    EXPECT_EQ(names[i].file_name, want[i].second) << i;
  }
  const auto longer = MakeArchiveNames({std::string(300, 'x') + ".png"});
  EXPECT_EQ(longer[0].stem.size(), 80u);
}

TEST_F(ExportBuilderTest, ContainsExactlyTheRequestedEntries) {
  ExportOptions o;
  o.formats = {"coco", "yolo", "geojson", "imagej", "json", "csv", "xlsx"};
  o.include_originals = true;
  o.include_overlays = true;
  const auto zip = Export(o);
  std::set<std::string> names;
  for (const auto& [name, bytes] : zip) names.insert(name);
  const std::set<std::string> want = {"README.txt",
                                      "annotations/coco.json",
                                      "annotations/yolo/classes.txt",
                                      "annotations/yolo/a.txt",
                                      "annotations/yolo/A_2.txt",
                                      "annotations/yolo/pass_wd.txt",
                                      "annotations/geojson/a.geojson",
                                      "annotations/geojson/A_2.geojson",
                                      "annotations/geojson/pass_wd.geojson",
                                      "annotations/imagej/a.zip",
                                      "annotations/imagej/A_2.zip",
                                      "annotations/imagej/pass_wd.zip",
                                      "annotations/json/a.json",
                                      "annotations/json/A_2.json",
                                      "annotations/json/pass_wd.json",
                                      "metrics/metrics.csv",
                                      "metrics/metrics.xlsx",
                                      "images/a.png",
                                      "images/A_2.tif",
                                      "overlays/a.png",
                                      "overlays/A_2.png"};
  EXPECT_EQ(names, want);
  for (const std::string& n : names) {
    EXPECT_EQ(n.find(".."), std::string::npos) << n;
    EXPECT_NE(n.front(), '/') << n;
  }
  // Overlays are PNGs of the image size; originals are the loaded bytes.
  const std::string& overlay = zip.at("overlays/a.png");
  cv::Mat decoded =
      cv::imdecode(std::vector<uint8_t>(overlay.begin(), overlay.end()), cv::IMREAD_COLOR);
  EXPECT_EQ(decoded.cols, 64);
  EXPECT_EQ(decoded.rows, 48);
  EXPECT_EQ(zip.at("images/a.png"), Png(64, 48));
  EXPECT_NE(
      zip.at("README.txt").find("No original file was available for:\n  ../../etc/pass wd?.jpeg"),
      std::string::npos);
  EXPECT_NE(zip.at("README.txt").find("A_2.tif <- A.tif"), std::string::npos);
  EXPECT_EQ(DirEntries(), std::vector<std::string>{"out.zip"});  // no staging left behind
}

TEST_F(ExportBuilderTest, OnlyRequestedFormats) {
  ExportOptions o;
  o.formats = {"geojson"};
  const auto zip = Export(o);
  std::set<std::string> names;
  for (const auto& [name, bytes] : zip) names.insert(name);
  EXPECT_EQ(names, (std::set<std::string>{"README.txt", "annotations/geojson/a.geojson",
                                          "annotations/geojson/A_2.geojson",
                                          "annotations/geojson/pass_wd.geojson"}));
}

TEST_F(ExportBuilderTest, CocoHasAllImagesCategoriesAndAnnotations) {
  ExportOptions o;
  o.formats = {"coco", "yolo"};
  const auto zip = Export(o);
  const auto coco = nlohmann::json::parse(zip.at("annotations/coco.json"));
  ASSERT_EQ(coco["images"].size(), 3u);
  EXPECT_EQ(coco["images"][1]["file_name"], "A_2.tif");
  EXPECT_EQ(coco["annotations"].size(), 3u);  // externals only
  ASSERT_EQ(coco["categories"].size(), 2u);
  EXPECT_EQ(coco["categories"][1]["name"], "cell");
  // The holed object is RLE, the others are polygons.
  EXPECT_TRUE(coco["annotations"][0]["segmentation"].is_object());
  EXPECT_TRUE(coco["annotations"][1]["segmentation"].is_array());
  // YOLO class indices follow the COCO categories.
  EXPECT_EQ(zip.at("annotations/yolo/classes.txt"), "spheroid\ncell\n");
  const auto lines = Lines(zip.at("annotations/yolo/A_2.txt"));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].substr(0, 2), "0 ");
  EXPECT_EQ(lines[1].substr(0, 2), "1 ");
}

TEST_F(ExportBuilderTest, CsvAndXlsxHaveOneRowPerExternalPolygon) {
  ExportOptions o;
  o.formats = {"csv", "xlsx", "json"};
  const auto zip = Export(o);
  const auto csv = Lines(zip.at("metrics/metrics.csv"));
  ASSERT_EQ(csv.size(), 1u + 3u);
  EXPECT_EQ(csv[1].substr(0, 8), "a.png,1,");
  EXPECT_NE(csv[0].find("BoundingBoxHeight"), std::string::npos);
  const auto parts = ReadZip(zip.at("metrics/metrics.xlsx"));
  ASSERT_TRUE(parts.count("xl/worksheets/sheet2.xml"));
  for (const auto& [name, xml] : parts) EXPECT_EQ(XmlProblem(xml), "") << name;
  const std::string& summary = parts.at("xl/worksheets/sheet1.xml");
  const std::string& polygons = parts.at("xl/worksheets/sheet2.xml");
  EXPECT_NE(summary.find("<row r=\"4\">"), std::string::npos);  // header + 3 images
  EXPECT_EQ(summary.find("<row r=\"5\">"), std::string::npos);
  EXPECT_NE(polygons.find("<row r=\"4\">"), std::string::npos);  // header + 3 objects
  EXPECT_EQ(polygons.find("<row r=\"5\">"), std::string::npos);
  EXPECT_NE(parts.at("xl/workbook.xml").find("name=\"Summary\""), std::string::npos);
  const auto json = nlohmann::json::parse(zip.at("annotations/json/a.json"));
  EXPECT_EQ(json["image"], "a.png");
  EXPECT_EQ(json["polygons"].size(), 2u);
  EXPECT_NEAR(json["polygons"][0]["metrics"]["Area"].get<double>(), 900.0 - 64.0, 1e-6);
}

double CsvArea(const std::string& csv_text, size_t row) {
  const auto lines = Lines(csv_text);
  std::istringstream in(lines.at(row));
  std::string field;
  for (int i = 0; i <= 5; ++i) std::getline(in, field, ',');  // image,id,class,conf,unit,Area
  return std::stod(field);
}

TEST_F(ExportBuilderTest, MicronScaleMultipliesAreaBySquare) {
  ExportOptions o;
  o.formats = {"csv", "json"};
  const auto px = Export(o);
  o.um_per_px = 0.5;
  const auto um = Export(o);
  EXPECT_NEAR(CsvArea(um.at("metrics/metrics.csv"), 1),
              CsvArea(px.at("metrics/metrics.csv"), 1) * 0.25, 1e-9);
  EXPECT_NE(Lines(um.at("metrics/metrics.csv"))[1].find(",um,"), std::string::npos);
  const auto json = nlohmann::json::parse(um.at("annotations/json/a.json"));
  EXPECT_NEAR(json["polygons"][0]["metrics"]["Area"].get<double>(), (900.0 - 64.0) * 0.25, 1e-6);
  EXPECT_EQ(json["polygons"][0]["metrics_unit"], "um");
  EXPECT_NE(um.at("README.txt").find("0.5 um per pixel"), std::string::npos);
}

TEST_F(ExportBuilderTest, ProgressIsMonotonicAndEndsAtOne) {
  ExportOptions o;
  o.formats = {"coco", "csv", "xlsx"};
  o.include_originals = true;
  std::vector<double> seen;
  auto size = WriteExportZip(
      "p", Images(), o, dir_ / "out.zip",
      [&](double f, const std::string& stage) {
        EXPECT_FALSE(stage.empty());
        seen.push_back(f);
      },
      nullptr);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  ASSERT_GE(seen.size(), 4u);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i], seen[i - 1]);
  EXPECT_EQ(seen.front(), 0.0);
  EXPECT_EQ(seen.back(), 1.0);
}

TEST_F(ExportBuilderTest, CancellationReturnsCancelledAndLeavesNoFile) {
  ExportOptions o;
  o.formats = {"coco"};
  o.include_originals = true;
  std::atomic<bool> cancelled{false};
  // Cancel while the second image is being prepared.
  auto images = Images();
  images[1].load_original = [&cancelled] {
    cancelled = true;
    return Result<std::string>(Png(64, 48));
  };
  auto r = WriteExportZip("p", images, o, dir_ / "out.zip", nullptr, &cancelled);
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
  EXPECT_TRUE(DirEntries().empty());
  // Cancelled before it starts.
  auto again = WriteExportZip("p", Images(), o, dir_ / "out.zip", nullptr, &cancelled);
  EXPECT_EQ(again.status().code(), StatusCode::kCancelled);
  EXPECT_TRUE(DirEntries().empty());
}

TEST_F(ExportBuilderTest, CancellationWhileZippingLeavesNoFile) {
  ExportOptions o;
  o.formats = {"coco", "geojson"};
  std::atomic<bool> cancelled{false};
  auto r = WriteExportZip(
      "p", Images(), o, dir_ / "out.zip",
      [&cancelled](double, const std::string& stage) {
        if (stage == "writing archive") cancelled = true;
      },
      &cancelled);
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
  EXPECT_TRUE(DirEntries().empty());
}

TEST_F(ExportBuilderTest, ErrorsLeaveNoFileAndNameTheImage) {
  ExportOptions o;
  o.formats = {"coco"};
  o.include_overlays = true;
  auto images = Images();
  images[1].load_original = [] { return Result<std::string>(NotFound("blob missing")); };
  auto r = WriteExportZip("p", images, o, dir_ / "out.zip", nullptr, nullptr);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("A.tif"), std::string::npos);
  EXPECT_TRUE(DirEntries().empty());
  images = Images();
  images[0].width = 0;
  EXPECT_EQ(WriteExportZip("p", images, o, dir_ / "out.zip", nullptr, nullptr).status().code(),
            StatusCode::kInvalidArgument);
  o.formats = {"docx"};
  EXPECT_EQ(WriteExportZip("p", Images(), o, dir_ / "out.zip", nullptr, nullptr).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(DirEntries().empty());
}

TEST_F(ExportBuilderTest, ReplacesAnExistingArchive) {
  std::ofstream(dir_ / "out.zip") << "old";
  ExportOptions o;
  o.formats = {"json"};
  const auto zip = Export(o);
  EXPECT_TRUE(zip.count("annotations/json/a.json"));
}

}  // namespace
}  // namespace seghub::hub
