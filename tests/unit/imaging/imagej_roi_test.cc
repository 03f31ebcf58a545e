#include "imaging/imagej_roi.h"

#include <gtest/gtest.h>
#include <zip.h>

#include <opencv2/imgproc.hpp>

namespace seghub::imaging {
namespace {

std::vector<uint8_t> Bytes(std::initializer_list<int> values) {
  return std::vector<uint8_t>(values.begin(), values.end());
}

std::vector<uint8_t> Slice(const std::vector<uint8_t>& b, size_t from, size_t count) {
  return std::vector<uint8_t>(b.begin() + from, b.begin() + from + count);
}

ImageJRoi Triangle(bool sub_pixel) {
  ImageJRoi roi;
  roi.name = "a";
  roi.points = {{1, 2}, {5, 2}, {3, 7}};
  roi.sub_pixel = sub_pixel;
  return roi;
}

// The byte layout ImageJ's RoiEncoder produces for an integer polygon, written out by hand.
TEST(ImageJRoiTest, IntegerTriangleByteLayout) {
  auto encoded = EncodeImageJRoi(Triangle(false));
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  const std::vector<uint8_t>& b = *encoded;
  ASSERT_EQ(b.size(), 64u + 12u + 64u + 2u);
  EXPECT_EQ(Slice(b, 0, 4), Bytes({'I', 'o', 'u', 't'}));
  EXPECT_EQ(Slice(b, 4, 2), Bytes({0x00, 0xE4}));                      // version 228
  EXPECT_EQ(b[6], 0);                                                  // polygon
  EXPECT_EQ(Slice(b, 8, 10), Bytes({0, 2, 0, 1, 0, 7, 0, 5, 0, 3}));   // top left bottom right n
  EXPECT_EQ(Slice(b, 50, 2), Bytes({0, 0}));                           // no sub-pixel option
  EXPECT_EQ(Slice(b, 60, 4), Bytes({0, 0, 0, 76}));                    // header2 offset
  EXPECT_EQ(Slice(b, 64, 6), Bytes({0, 0, 0, 4, 0, 2}));               // x - left
  EXPECT_EQ(Slice(b, 70, 6), Bytes({0, 0, 0, 0, 0, 5}));               // y - top
  EXPECT_EQ(Slice(b, 76 + 16, 8), Bytes({0, 0, 0, 140, 0, 0, 0, 1}));  // name offset, length
  EXPECT_EQ(Slice(b, 140, 2), Bytes({0, 'a'}));                        // UTF-16BE
}

TEST(ImageJRoiTest, SubPixelTriangleAppendsFloats) {
  auto encoded = EncodeImageJRoi(Triangle(true));
  ASSERT_TRUE(encoded.ok());
  const std::vector<uint8_t>& b = *encoded;
  ASSERT_EQ(b.size(), 64u + 12u + 24u + 64u + 2u);
  EXPECT_EQ(Slice(b, 50, 2), Bytes({0, 128}));
  EXPECT_EQ(Slice(b, 60, 4), Bytes({0, 0, 0, 100}));
  EXPECT_EQ(Slice(b, 76, 4), Bytes({0x3F, 0x80, 0x00, 0x00}));      // x0 = 1.0f
  EXPECT_EQ(Slice(b, 88 + 8, 4), Bytes({0x40, 0xE0, 0x00, 0x00}));  // y2 = 7.0f
}

TEST(ImageJRoiTest, RecordRoundTrip) {
  ImageJRoi roi;
  roi.name = "zelle-\xC2\xB5-\xF0\x9F\x94\xAC";  // non-ASCII and a surrogate pair
  roi.points = {{10.25f, 3.5f}, {40.75f, 3.5f}, {40.75f, 22.125f}, {10.25f, 30.0f}};
  roi.stroke_color = 0xFFFF0000u;
  auto encoded = EncodeImageJRoi(roi);
  ASSERT_TRUE(encoded.ok());
  auto decoded = DecodeImageJRoi(*encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->name, roi.name);
  EXPECT_EQ(decoded->points, roi.points);
  EXPECT_TRUE(decoded->sub_pixel);
  EXPECT_EQ(decoded->stroke_color, roi.stroke_color);

  roi.sub_pixel = false;
  auto integer = DecodeImageJRoi(*EncodeImageJRoi(roi));
  ASSERT_TRUE(integer.ok());
  EXPECT_EQ(integer->points[0], cv::Point2f(10, 4));  // rounded half away from zero
  EXPECT_EQ(integer->points[2], cv::Point2f(41, 22));
}

TEST(ImageJRoiTest, RejectsWhatTheFormatCannotHold) {
  ImageJRoi two;
  two.points = {{0, 0}, {1, 1}};
  EXPECT_FALSE(EncodeImageJRoi(two).ok());
  ImageJRoi far = Triangle(true);
  far.points[1].x = 40000;
  EXPECT_FALSE(EncodeImageJRoi(far).ok());
  EXPECT_FALSE(DecodeImageJRoi(Bytes({'I', 'o', 'u', 't'})).ok());
  EXPECT_FALSE(DecodeImageJRoi(std::vector<uint8_t>(100, 0)).ok());
  std::vector<uint8_t> rect = *EncodeImageJRoi(Triangle(false));
  rect[6] = 1;  // rectangle
  EXPECT_EQ(DecodeImageJRoi(rect).status().code(), StatusCode::kUnimplemented);
  std::vector<uint8_t> truncated = *EncodeImageJRoi(Triangle(true));
  truncated.resize(80);
  EXPECT_FALSE(DecodeImageJRoi(truncated).ok());
}

// Two objects, the first with a hole: three ROIs, the hole named after its parent.
std::vector<Polygon> ObjectsWithHole() {
  cv::Mat mask = cv::Mat::zeros(120, 160, CV_8U);
  cv::circle(mask, {50, 60}, 35, 255, -1);
  cv::circle(mask, {50, 60}, 12, 0, -1);
  cv::rectangle(mask, cv::Rect(110, 70, 30, 40), 255, -1);  // below the ring: read third
  auto polygons = PolygonsFromMask(mask, cv::Mat());
  EXPECT_TRUE(polygons.ok());
  return polygons.ok() ? *polygons : std::vector<Polygon>{};
}

TEST(ImageJRoiTest, ZipRoundTripOneEntryPerRoi) {
  const std::vector<Polygon> polygons = ObjectsWithHole();
  ASSERT_EQ(polygons.size(), 3u);
  auto zip = EncodeImageJRoiZip(polygons);
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  ASSERT_GT(zip->size(), 4u);
  EXPECT_EQ(Slice(*zip, 0, 4), Bytes({'P', 'K', 3, 4}));

  // Listed independently of our reader: libzip's own view of the central directory.
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(zip->data(), zip->size(), 0, &error);
  zip_t* archive = zip_open_from_source(source, ZIP_RDONLY, &error);
  ASSERT_NE(archive, nullptr);
  EXPECT_EQ(zip_get_num_entries(archive, 0), 3);
  EXPECT_STREQ(zip_get_name(archive, 0, 0), "spheroid-0001.roi");
  EXPECT_STREQ(zip_get_name(archive, 1, 0), "spheroid-0001-hole-1.roi");
  EXPECT_STREQ(zip_get_name(archive, 2, 0), "spheroid-0003.roi");
  zip_discard(archive);

  auto entries = DecodeImageJRoiZip(*zip);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), polygons.size());
  for (size_t i = 0; i < polygons.size(); ++i) {
    const ImageJRoi& roi = (*entries)[i].roi;
    EXPECT_EQ((*entries)[i].entry_name, roi.name + ".roi");
    EXPECT_EQ(roi.points, polygons[i].points) << roi.name;
    EXPECT_EQ(roi.stroke_color, polygons[i].type == PolygonType::kInternal ? 0xFFFF0000u : 0u);
  }
  EXPECT_EQ((*entries)[1].roi.name, "spheroid-0001-hole-1");

  auto again = EncodeImageJRoiZip(polygons);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *zip);  // deterministic bytes
}

TEST(ImageJRoiTest, EmptyAndBrokenZips) {
  auto empty = EncodeImageJRoiZip({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), 22u);
  auto none = DecodeImageJRoiZip(*empty);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(DecodeImageJRoiZip(Bytes({'P', 'K', 3, 4, 0, 0})).ok());
  std::vector<uint8_t> corrupt = *EncodeImageJRoiZip(ObjectsWithHole());
  corrupt.resize(corrupt.size() / 2);
  EXPECT_FALSE(DecodeImageJRoiZip(corrupt).ok());
}

}  // namespace
}  // namespace seghub::imaging
