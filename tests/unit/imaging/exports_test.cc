#include "imaging/exports.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <sstream>

#include "imaging/decode.h"
#include "imaging/raster_exports.h"

namespace seghub::imaging {
namespace {

// A 100×80 image with a ring (outer square 10..49 with a 15×15 hole) and a plain square.
cv::Mat TwoObjectMask() {
  cv::Mat m = cv::Mat::zeros(80, 100, CV_8UC1);
  m(cv::Rect(10, 10, 40, 40)).setTo(255);
  m(cv::Rect(20, 20, 15, 15)).setTo(0);
  m(cv::Rect(60, 30, 20, 20)).setTo(255);
  return m;
}

ExportImage TwoObjectImage() {
  ExportImage image{"a,b.png", 100, 80, {}, 0.0};
  image.polygons = *PolygonsFromMask(TwoObjectMask(), cv::Mat(), {});
  return image;
}

// Decodes pycocotools' uncompressed RLE back into a mask.
cv::Mat RleToMask(const nlohmann::json& rle) {
  const int h = rle["size"][0], w = rle["size"][1];
  cv::Mat m = cv::Mat::zeros(h, w, CV_8UC1);
  int64_t pos = 0;
  uint8_t v = 0;
  for (int64_t run : rle["counts"].get<std::vector<int64_t>>()) {
    for (int64_t k = 0; k < run; ++k, ++pos) m.at<uint8_t>(pos % h, pos / h) = v;
    v = 1 - v;
  }
  return m;
}

TEST(ExportsTest, LabelImageRasterisesBackToTheMask) {
  const ExportImage image = TwoObjectImage();
  ASSERT_EQ(image.polygons.size(), 3u);
  const auto labels = RenderLabelImage(image.polygons, {100, 80});
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_EQ(labels->type(), CV_16UC1);
  EXPECT_EQ(cv::countNonZero((*labels > 0) != TwoObjectMask()), 0);
  EXPECT_EQ(labels->at<uint16_t>(15, 15), 1);
  EXPECT_EQ(labels->at<uint16_t>(25, 25), 0);  // hole
  EXPECT_EQ(labels->at<uint16_t>(40, 70), 2);

  const auto png = EncodePng(*labels);
  ASSERT_TRUE(png.ok());
  const auto back = DecodeImage(*png);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(cv::norm(back->pixels, *labels, cv::NORM_INF), 0.0);
}

TEST(ExportsTest, CocoKeepsHolesAsRle) {
  const auto coco = ToCocoJson({TwoObjectImage()});
  ASSERT_TRUE(coco.ok()) << coco.status().ToString();
  ASSERT_EQ((*coco)["annotations"].size(), 2u);
  const nlohmann::json& ring = (*coco)["annotations"][0];
  const nlohmann::json& square = (*coco)["annotations"][1];
  ASSERT_TRUE(ring["segmentation"].is_object());  // RLE
  const cv::Mat ring_mask = RleToMask(ring["segmentation"]);
  cv::Mat expected = TwoObjectMask();
  expected(cv::Rect(55, 0, 45, 80)).setTo(0);
  EXPECT_EQ(cv::countNonZero((ring_mask > 0) != expected), 0);
  // The hole ring runs through the object pixels around the 15×15 hole and cuts its corners
  // diagonally: 16×16 − 4·½ = 254 px².
  EXPECT_DOUBLE_EQ(ring["area"].get<double>(), 39.0 * 39.0 - 254.0);
  EXPECT_EQ(ring["bbox"], nlohmann::json({10, 10, 40, 40}));
  ASSERT_TRUE(square["segmentation"].is_array());   // plain polygon
  EXPECT_EQ(square["segmentation"][0].size(), 8u);  // 4 corners as x,y pairs
  EXPECT_EQ((*coco)["categories"][0]["name"], "spheroid");
  EXPECT_EQ((*coco)["images"][0]["width"], 100);
}

TEST(ExportsTest, YoloLinesAreNormalisedOuterRings) {
  const auto yolo = ToYoloSegmentation(TwoObjectImage(), 0);
  ASSERT_TRUE(yolo.ok());
  std::istringstream lines(*yolo);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    std::istringstream fields(line);
    int cls = -1;
    fields >> cls;
    EXPECT_EQ(cls, 0);
    double v = 0;
    int n = 0;
    while (fields >> v) {
      EXPECT_GE(v, 0.0);
      EXPECT_LE(v, 1.0);
      ++n;
    }
    EXPECT_EQ(n, 8);
  }
  EXPECT_EQ(count, 2);  // the hole is not a line of its own
  EXPECT_NE(yolo->find("0 0.1 0.125"), std::string::npos);
}

TEST(ExportsTest, CsvHasHubColumnsAndEscapesNames) {
  ExportImage image = TwoObjectImage();
  image.um_per_px = 0.5;
  const auto csv = ToMetricsCsv({image});
  ASSERT_TRUE(csv.ok());
  std::istringstream in(*csv);
  std::string header, row1, row2;
  std::getline(in, header);
  std::getline(in, row1);
  std::getline(in, row2);
  EXPECT_EQ(header.rfind("image,polygon_id,class,confidence,unit,Area,Perimeter,", 0), 0u);
  EXPECT_NE(header.find("BoundingBoxHeight"), std::string::npos);
  EXPECT_EQ(row1.rfind("\"a,b.png\",1,spheroid,1,um,", 0), 0u) << row1;
  // Square 19×19 px at 0.5 µm/px: 90.25 µm².
  EXPECT_EQ(row2.rfind("\"a,b.png\",3,spheroid,1,um,90.25,", 0), 0u) << row2;
}

TEST(ExportsTest, GeoJsonHasClosedOrientedRingsForQuPath) {
  const auto geo = ToGeoJson(TwoObjectImage());
  ASSERT_TRUE(geo.ok());
  EXPECT_EQ((*geo)["type"], "FeatureCollection");
  ASSERT_EQ((*geo)["features"].size(), 2u);
  const nlohmann::json& f = (*geo)["features"][0];
  EXPECT_EQ(f["geometry"]["type"], "Polygon");
  EXPECT_EQ(f["properties"]["objectType"], "annotation");
  EXPECT_EQ(f["properties"]["classification"]["name"], "spheroid");
  const nlohmann::json& rings = f["geometry"]["coordinates"];
  ASSERT_EQ(rings.size(), 2u);  // exterior + hole
  for (size_t r = 0; r < 2; ++r) {
    EXPECT_EQ(rings[r].front(), rings[r].back());
    std::vector<cv::Point2f> pts;
    for (const auto& p : rings[r]) pts.emplace_back(p[0].get<float>(), p[1].get<float>());
    pts.pop_back();
    const double signed_area = cv::contourArea(pts, true);
    EXPECT_EQ(signed_area > 0, r == 0) << "ring " << r;
  }
}

TEST(ExportsTest, OverlayIsAPngOfTheImageSize) {
  const cv::Mat grey16(80, 100, CV_16UC1, cv::Scalar(3000));
  const auto png = RenderOverlayPng(grey16, TwoObjectImage().polygons);
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  const auto back = DecodeImage(*png);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->pixels.size(), cv::Size(100, 80));
  EXPECT_EQ(back->pixels.at<cv::Vec3b>(10, 30), cv::Vec3b(0, 255, 0));  // outer outline, RGB
  EXPECT_EQ(back->pixels.at<cv::Vec3b>(20, 27)[0], 255);                // hole outline is red
}

TEST(ExportsTest, RejectsMissingSize) {
  ExportImage image = TwoObjectImage();
  image.width = 0;
  EXPECT_FALSE(ToCocoJson({image}).ok());
  EXPECT_FALSE(ToYoloSegmentation(image).ok());
  EXPECT_FALSE(RenderLabelImage(image.polygons, {0, 0}).ok());
}

}  // namespace
}  // namespace seghub::imaging
