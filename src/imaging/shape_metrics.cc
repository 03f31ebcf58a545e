#include "imaging/shape_metrics.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <opencv2/imgproc.hpp>
#include <string>

namespace seghub::imaging {
namespace {

using Ring = std::vector<cv::Point2f>;

Status ValidateRing(const Ring& ring, const char* what) {
  if (ring.size() < 3) {
    return InvalidArgument(std::string(what) + " needs at least 3 points, got " +
                           std::to_string(ring.size()));
  }
  for (const cv::Point2f& p : ring) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) {
      return InvalidArgument(std::string(what) + " has a non-finite coordinate");
    }
  }
  return Status::Ok();
}

double SimplifiedPerimeter(const Ring& ring) {
  Ring simplified;
  cv::approxPolyDP(ring, simplified, kPerimeterSimplifyEpsilon, /*closed=*/true);
  return cv::arcLength(simplified, /*closed=*/true);
}

// Fills the pixel-unit metrics; the caller scales.
ShapeMetrics PixelMetrics(const Ring& outer, const std::vector<Ring>& holes) {
  constexpr double kPi = std::numbers::pi;
  ShapeMetrics m;
  m.area = std::abs(cv::contourArea(outer));
  m.perimeter = SimplifiedPerimeter(outer);
  m.perimeter_with_holes = m.perimeter;
  for (const Ring& hole : holes) {
    m.area -= std::abs(cv::contourArea(hole));
    m.perimeter_with_holes += SimplifiedPerimeter(hole);
  }
  m.area = std::max(m.area, 0.0);
  m.equivalent_diameter = std::sqrt(4.0 * m.area / kPi);

  const auto ratio = [](double num, double den) { return den > 0.0 ? num / den : 0.0; };
  const double pwh2 = m.perimeter_with_holes * m.perimeter_with_holes;
  m.circularity = std::min(1.0, ratio(4.0 * kPi * m.area, pwh2));
  m.compactness = std::max(1.0, ratio(m.perimeter * m.perimeter, 4.0 * kPi * m.area));
  m.sphericity = ratio(kPi * m.equivalent_diameter, m.perimeter);

  Ring hull;
  cv::convexHull(outer, hull);
  m.convexity = ratio(cv::arcLength(hull, /*closed=*/true), m.perimeter_with_holes);
  m.solidity = ratio(m.area, std::abs(cv::contourArea(hull)));

  const cv::Rect box = cv::boundingRect(outer);
  m.bounding_box_width = box.width;
  m.bounding_box_height = box.height;
  m.extent = ratio(m.area, static_cast<double>(box.width) * box.height);

  const cv::RotatedRect rect = cv::minAreaRect(outer);
  m.feret_diameter_max = std::max(rect.size.width, rect.size.height);
  m.feret_diameter_min = std::min(rect.size.width, rect.size.height);
  m.feret_aspect_ratio = ratio(m.feret_diameter_max, m.feret_diameter_min);
  m.feret_diameter_max_orthogonal_distance = m.feret_diameter_min;

  if (outer.size() >= 5) {
    const cv::RotatedRect ellipse = cv::fitEllipse(outer);
    m.length_major_diameter_through_centroid = std::max(ellipse.size.width, ellipse.size.height);
    m.length_minor_diameter_through_centroid = std::min(ellipse.size.width, ellipse.size.height);
  }
  return m;
}

void Scale(double s, ShapeMetrics* m) {
  const double s2 = s * s;
  m->area *= s2;
  for (double* length :
       {&m->perimeter, &m->perimeter_with_holes, &m->equivalent_diameter, &m->feret_diameter_max,
        &m->feret_diameter_min, &m->feret_diameter_max_orthogonal_distance,
        &m->length_major_diameter_through_centroid, &m->length_minor_diameter_through_centroid,
        &m->bounding_box_width, &m->bounding_box_height}) {
    *length *= s;
  }
}

Result<Ring> RingFromJson(const nlohmann::json& j, const char* what) {
  if (!j.is_array()) return InvalidArgument(std::string(what) + " must be an array of [x, y]");
  Ring ring;
  for (const nlohmann::json& p : j) {
    if (!p.is_array() || p.size() < 2 || !p[0].is_number() || !p[1].is_number()) {
      return InvalidArgument(std::string(what) + " points must be [x, y] number pairs");
    }
    ring.emplace_back(p[0].get<float>(), p[1].get<float>());
  }
  return ring;
}

}  // namespace

Result<ShapeMetrics> ComputeShapeMetrics(const std::vector<cv::Point2f>& outer,
                                         const std::vector<std::vector<cv::Point2f>>& holes,
                                         double um_per_px) {
  SEGHUB_RETURN_IF_ERROR(ValidateRing(outer, "contour"));
  for (const Ring& hole : holes) SEGHUB_RETURN_IF_ERROR(ValidateRing(hole, "hole"));
  if (!(um_per_px > 0.0) || !std::isfinite(um_per_px)) {
    return InvalidArgument("scale (µm per pixel) must be positive");
  }
  if (std::abs(cv::contourArea(outer)) <= 0.0) {
    return InvalidArgument("contour encloses no area (all points collinear)");
  }
  ShapeMetrics m;
  try {
    m = PixelMetrics(outer, holes);
  } catch (const cv::Exception& e) {
    return InvalidArgument(std::string("shape metrics failed: ") + e.what());
  }
  Scale(um_per_px, &m);
  return m;
}

Result<ShapeMetrics> ComputeShapeMetrics(const std::vector<Polygon>& polygons,
                                         const PolygonGroup& group, double um_per_px) {
  if (group.external >= polygons.size()) return InvalidArgument("polygon index out of range");
  std::vector<Ring> holes;
  for (size_t h : group.holes) {
    if (h >= polygons.size()) return InvalidArgument("hole index out of range");
    holes.push_back(polygons[h].points);
  }
  return ComputeShapeMetrics(polygons[group.external].points, holes, um_per_px);
}

Result<ShapeMetrics> ComputeShapeMetricsFromJson(const nlohmann::json& request, double um_per_px) {
  if (!request.is_object() || !request.contains("contour")) {
    return InvalidArgument("request needs a \"contour\": [[x, y], ...]");
  }
  SEGHUB_ASSIGN_OR_RETURN(const Ring outer, RingFromJson(request["contour"], "contour"));
  std::vector<Ring> holes;
  if (request.contains("holes") && !request["holes"].is_null()) {
    if (!request["holes"].is_array()) return InvalidArgument("\"holes\" must be an array");
    for (const nlohmann::json& h : request["holes"]) {
      SEGHUB_ASSIGN_OR_RETURN(Ring hole, RingFromJson(h, "hole"));
      holes.push_back(std::move(hole));
    }
  }
  return ComputeShapeMetrics(outer, holes, um_per_px);
}

nlohmann::json ToJson(const ShapeMetrics& m) {
  return {{"Area", m.area},
          {"Perimeter", m.perimeter},
          {"PerimeterWithHoles", m.perimeter_with_holes},
          {"EquivalentDiameter", m.equivalent_diameter},
          {"Circularity", m.circularity},
          {"Compactness", m.compactness},
          {"Sphericity", m.sphericity},
          {"Convexity", m.convexity},
          {"Solidity", m.solidity},
          {"Extent", m.extent},
          {"FeretDiameterMax", m.feret_diameter_max},
          {"FeretDiameterMin", m.feret_diameter_min},
          {"FeretAspectRatio", m.feret_aspect_ratio},
          {"FeretDiameterMaxOrthogonalDistance", m.feret_diameter_max_orthogonal_distance},
          {"LengthMajorDiameterThroughCentroid", m.length_major_diameter_through_centroid},
          {"LengthMinorDiameterThroughCentroid", m.length_minor_diameter_through_centroid},
          {"BoundingBoxWidth", m.bounding_box_width},
          {"BoundingBoxHeight", m.bounding_box_height}};
}

}  // namespace seghub::imaging
