#include "imaging/exports.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "imaging/raster_exports.h"
#include "imaging/shape_metrics.h"

namespace seghub::imaging {
namespace {

using Ring = std::vector<cv::Point2f>;

std::vector<Ring> HolesOf(const ExportImage& image, const PolygonGroup& group) {
  std::vector<Ring> holes;
  for (size_t h : group.holes) holes.push_back(image.polygons[h].points);
  return holes;
}

Status ValidateImage(const ExportImage& image) {
  if (image.width <= 0 || image.height <= 0) {
    return InvalidArgument("export of '" + image.file_name + "' needs the image size");
  }
  return Status::Ok();
}

// pycocotools' uncompressed RLE: run lengths over the column-major mask, starting with zeros.
nlohmann::json MaskToRle(const cv::Mat& mask) {
  std::vector<int64_t> counts;
  uint8_t current = 0;
  int64_t run = 0;
  for (int x = 0; x < mask.cols; ++x) {
    for (int y = 0; y < mask.rows; ++y) {
      const uint8_t v = mask.at<uint8_t>(y, x) ? 1 : 0;
      if (v != current) {
        counts.push_back(run);
        run = 0;
        current = v;
      }
      ++run;
    }
  }
  counts.push_back(run);
  return {{"counts", counts}, {"size", {mask.rows, mask.cols}}};
}

Result<nlohmann::json> CocoAnnotation(const ExportImage& image, const PolygonGroup& group,
                                      int64_t id, int image_id, int category_id) {
  const Polygon& outer = image.polygons[group.external];
  const std::vector<Ring> holes = HolesOf(image, group);
  double area = outer.area;
  for (const Ring& h : holes) area -= std::abs(cv::contourArea(h));
  const cv::Rect box = cv::boundingRect(outer.points);
  nlohmann::json a = {{"id", id},
                      {"image_id", image_id},
                      {"category_id", category_id},
                      {"iscrowd", 0},
                      {"area", std::max(area, 0.0)},
                      {"bbox", {box.x, box.y, box.width, box.height}},
                      {"score", outer.confidence}};
  if (holes.empty()) {
    std::vector<double> flat;
    for (const cv::Point2f& p : outer.points) flat.insert(flat.end(), {p.x, p.y});
    a["segmentation"] = nlohmann::json::array({flat});
  } else {
    cv::Mat mask = cv::Mat::zeros(image.height, image.width, CV_8UC1);
    SEGHUB_RETURN_IF_ERROR(RasterizeObject(outer.points, holes, 1.0, &mask));
    a["segmentation"] = MaskToRle(mask);
  }
  return a;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.10g", v);
  return buf;
}

// GeoJSON ring: closed, with the requested orientation (positive signed area = CCW in x/y).
nlohmann::json GeoRing(const Ring& ring, bool counter_clockwise) {
  Ring r = ring;
  const bool is_ccw = cv::contourArea(r, /*oriented=*/true) > 0;
  if (is_ccw != counter_clockwise) std::reverse(r.begin(), r.end());
  nlohmann::json coords = nlohmann::json::array();
  for (const cv::Point2f& p : r) coords.push_back({p.x, p.y});
  coords.push_back(coords.front());
  return coords;
}

// One line per external polygon; `class_of` picks each polygon's class index.
template <typename ClassOf>
Result<std::string> YoloLines(const ExportImage& image, const ClassOf& class_of) {
  SEGHUB_RETURN_IF_ERROR(ValidateImage(image));
  std::ostringstream out;
  for (const Polygon& p : image.polygons) {
    if (p.type != PolygonType::kExternal) continue;
    SEGHUB_ASSIGN_OR_RETURN(const int class_index, class_of(p));
    out << class_index;
    for (const cv::Point2f& pt : p.points) {
      // In double: float division would print 0.1 as 0.1000000015.
      const double x = static_cast<double>(pt.x) / image.width;
      const double y = static_cast<double>(pt.y) / image.height;
      out << ' ' << FormatNumber(std::clamp(x, 0.0, 1.0)) << ' '
          << FormatNumber(std::clamp(y, 0.0, 1.0));
    }
    out << '\n';
  }
  return out.str();
}

}  // namespace

Result<nlohmann::json> ToCocoJson(const std::vector<ExportImage>& images) {
  nlohmann::json coco = {{"info", {{"description", "seghub export"}}},
                         {"images", nlohmann::json::array()},
                         {"annotations", nlohmann::json::array()},
                         {"categories", nlohmann::json::array()}};
  std::map<std::string, int> category_ids;
  int64_t next_annotation = 1;
  for (size_t i = 0; i < images.size(); ++i) {
    const ExportImage& image = images[i];
    SEGHUB_RETURN_IF_ERROR(ValidateImage(image));
    const int image_id = static_cast<int>(i) + 1;
    coco["images"].push_back({{"id", image_id},
                              {"file_name", image.file_name},
                              {"width", image.width},
                              {"height", image.height}});
    for (const PolygonGroup& g : GroupHoles(image.polygons)) {
      const std::string& name = image.polygons[g.external].class_name;
      auto [it, fresh] = category_ids.try_emplace(name, static_cast<int>(category_ids.size()) + 1);
      if (fresh) coco["categories"].push_back({{"id", it->second}, {"name", name}});
      SEGHUB_ASSIGN_OR_RETURN(nlohmann::json a,
                              CocoAnnotation(image, g, next_annotation++, image_id, it->second));
      coco["annotations"].push_back(std::move(a));
    }
  }
  return coco;
}

Result<std::string> ToYoloSegmentation(const ExportImage& image, int class_index) {
  return YoloLines(image, [class_index](const Polygon&) -> Result<int> { return class_index; });
}

Result<std::string> ToYoloSegmentation(const ExportImage& image,
                                       const std::vector<std::string>& class_names) {
  return YoloLines(image, [&class_names](const Polygon& p) -> Result<int> {
    const auto it = std::find(class_names.begin(), class_names.end(), p.class_name);
    if (it == class_names.end()) {
      return InvalidArgument("class '" + p.class_name + "' of polygon " + std::to_string(p.id) +
                             " is not in the YOLO class list");
    }
    return static_cast<int>(it - class_names.begin());
  });
}

const std::vector<std::string>& MetricColumns() {
  // nlohmann::json iterates keys sorted; the Hub's table order reads better, so spell it out.
  static const std::vector<std::string> kColumns = {"Area",
                                                    "Perimeter",
                                                    "PerimeterWithHoles",
                                                    "EquivalentDiameter",
                                                    "Circularity",
                                                    "Compactness",
                                                    "Sphericity",
                                                    "Convexity",
                                                    "Solidity",
                                                    "Extent",
                                                    "FeretDiameterMax",
                                                    "FeretDiameterMin",
                                                    "FeretAspectRatio",
                                                    "FeretDiameterMaxOrthogonalDistance",
                                                    "LengthMajorDiameterThroughCentroid",
                                                    "LengthMinorDiameterThroughCentroid",
                                                    "BoundingBoxWidth",
                                                    "BoundingBoxHeight"};
  return kColumns;
}

Result<std::string> ToMetricsCsv(const std::vector<ExportImage>& images) {
  std::ostringstream out;
  out << "image,polygon_id,class,confidence,unit";
  for (const std::string& c : MetricColumns()) out << ',' << c;
  out << '\n';
  for (const ExportImage& image : images) {
    const double scale = image.um_per_px > 0.0 ? image.um_per_px : 1.0;
    for (const PolygonGroup& g : GroupHoles(image.polygons)) {
      const Polygon& outer = image.polygons[g.external];
      const auto metrics = ComputeShapeMetrics(outer.points, HolesOf(image, g), scale);
      if (!metrics.ok()) continue;  // degenerate outline: no defined metrics
      const nlohmann::json m = ToJson(*metrics);
      out << CsvField(image.file_name) << ',' << outer.id << ',' << CsvField(outer.class_name)
          << ',' << FormatNumber(outer.confidence) << ',' << (image.um_per_px > 0 ? "um" : "px");
      for (const std::string& c : MetricColumns()) out << ',' << FormatNumber(m[c].get<double>());
      out << '\n';
    }
  }
  return out.str();
}

Result<nlohmann::json> ToGeoJson(const ExportImage& image) {
  nlohmann::json features = nlohmann::json::array();
  for (const PolygonGroup& g : GroupHoles(image.polygons)) {
    const Polygon& outer = image.polygons[g.external];
    if (outer.points.size() < 3) continue;
    nlohmann::json rings = nlohmann::json::array({GeoRing(outer.points, true)});
    for (const Ring& h : HolesOf(image, g)) {
      if (h.size() >= 3) rings.push_back(GeoRing(h, false));
    }
    features.push_back({{"type", "Feature"},
                        {"id", std::to_string(outer.id)},
                        {"geometry", {{"type", "Polygon"}, {"coordinates", std::move(rings)}}},
                        {"properties",
                         {{"objectType", "annotation"},
                          {"classification", {{"name", outer.class_name}, {"color", {0, 200, 0}}}},
                          {"confidence", outer.confidence},
                          {"area", outer.area}}}});
  }
  return nlohmann::json{{"type", "FeatureCollection"}, {"features", std::move(features)}};
}

nlohmann::json HubPolygonsJson(const std::vector<Polygon>& polygons,
                               const std::map<int, ShapeMetrics>* metrics, double um_per_px) {
  nlohmann::json out = nlohmann::json::array();
  const char* unit = um_per_px > 0 ? "um" : "px";
  for (const Polygon& p : polygons) {
    nlohmann::json j = ToJson(p);
    if (metrics != nullptr) {
      const auto it = metrics->find(p.id);
      if (it != metrics->end()) {
        j["metrics"] = ToJson(it->second);
        j["metrics_unit"] = unit;
      }
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace seghub::imaging
