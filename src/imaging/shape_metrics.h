// Per-polygon shape metrics with exactly the Hub's formulas (hub-contract.md, "Shape metrics per
// polygon"), in pixels or, with a scale s (µm per px), lengths × s and areas × s². JSON keys are
// the Hub's (`Area`, `Perimeter`, ... as its /api/calculate-metrics returns them).
// Conventions, as the Hub computes them with OpenCV: Perimeter is the arc length after
// Douglas–Peucker with ε = 2 px; bounding box is cv::boundingRect (pixel-inclusive:
// max − min + 1 for integer points); Feret from cv::minAreaRect; axes from cv::fitEllipse.
// Pure functions; thread-safe.
#ifndef SEGHUB_IMAGING_SHAPE_METRICS_H_
#define SEGHUB_IMAGING_SHAPE_METRICS_H_

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <vector>

#include "common/status.h"
#include "imaging/polygons.h"

namespace seghub::imaging {

inline constexpr double kPerimeterSimplifyEpsilon = 2.0;  // px, the Hub's DP epsilon

struct ShapeMetrics {
  double area = 0;                  // outer shoelace area minus hole areas
  double perimeter = 0;             // outer contour, DP-simplified
  double perimeter_with_holes = 0;  // plus the simplified hole perimeters
  double equivalent_diameter = 0;   // sqrt(4·Area/π)
  double circularity = 0;           // 4π·Area / PerimeterWithHoles², capped at 1
  double compactness = 0;           // Perimeter² / (4π·Area), at least 1
  double sphericity = 0;            // π·EquivalentDiameter / Perimeter
  double convexity = 0;             // hull perimeter / PerimeterWithHoles
  double solidity = 0;              // Area / hull area
  double extent = 0;                // Area / (bbox width · height)
  double feret_diameter_max = 0;    // long side of the minimum-area rectangle
  double feret_diameter_min = 0;    // short side
  double feret_aspect_ratio = 0;    // max / min
  double feret_diameter_max_orthogonal_distance = 0;  // short side, as the Hub defines it
  double length_major_diameter_through_centroid = 0;  // fitted ellipse axes; 0 below 5 points
  double length_minor_diameter_through_centroid = 0;
  double bounding_box_width = 0;
  double bounding_box_height = 0;
};

// `outer`: at least 3 finite points with non-zero area; `holes`: rings inside it (rings with
// fewer than 3 points are an error too). `um_per_px` > 0 (1 = pixels).
Result<ShapeMetrics> ComputeShapeMetrics(const std::vector<cv::Point2f>& outer,
                                         const std::vector<std::vector<cv::Point2f>>& holes,
                                         double um_per_px = 1.0);

// Metrics of one external polygon of `polygons` with its holes (see GroupHoles).
Result<ShapeMetrics> ComputeShapeMetrics(const std::vector<Polygon>& polygons,
                                         const PolygonGroup& group, double um_per_px = 1.0);

// The Hub's calculate-metrics request body `{contour:[[x,y]...], holes?:[[[x,y]...]...]}`.
Result<ShapeMetrics> ComputeShapeMetricsFromJson(const nlohmann::json& request,
                                                 double um_per_px = 1.0);

// {"Area": ..., "Perimeter": ..., ...} with the Hub's key names.
nlohmann::json ToJson(const ShapeMetrics& metrics);

}  // namespace seghub::imaging

#endif  // SEGHUB_IMAGING_SHAPE_METRICS_H_
