// Probability map / mask / instance labels -> Hub polygons (hub-contract.md "Polygon JSON").
//
// Contours come from cv::findContours(RETR_TREE, CHAIN_APPROX_SIMPLE) on a mask padded by one
// zero pixel (OpenCV ignores the outermost pixel row otherwise). Nesting depth decides the type:
// even depth = external, odd depth = internal (a hole, parent_id = the enclosing external). An
// object inside a hole is therefore a new external, where the Hub would mislabel it a hole.
// Contours under min_area px² or with < 3 points are dropped (a dropped hole is thereby filled).
// Pure functions; thread-safe.
#ifndef SEGHUB_IMAGING_POLYGONS_H_
#define SEGHUB_IMAGING_POLYGONS_H_

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace seghub::imaging {

enum class PolygonType { kExternal, kInternal };

struct Polygon {
  int id = 0;                       // 1-based, unique within one result
  std::vector<cv::Point2f> points;  // pixel coordinates (x right, y down), not closed
  PolygonType type = PolygonType::kExternal;
  std::optional<int> parent_id;  // set for internal polygons only
  std::string class_name = "spheroid";
  // Mean probability over the object's pixels, holes excluded (the Hub reports the image's
  // maximum for every polygon). Internal polygons carry their parent's value. 1 without a map.
  double confidence = 1.0;
  double area = 0.0;  // shoelace area of this ring alone (cv::contourArea), px²
};

struct PolygonOptions {
  float threshold = 0.5f;    // foreground is probability > threshold, as the Hub
  double min_area = 50.0;    // px²
  bool detect_holes = true;  // false: outer contours only, filled
  // Douglas–Peucker epsilon in px; 0 keeps every contour corner (collinear points are dropped).
  double simplify_epsilon = 0.0;
  std::string class_name = "spheroid";
};

// `probabilities`: CV_32FC1. Thresholds with `>` and extracts polygons.
Result<std::vector<Polygon>> PolygonsFromProbabilities(const cv::Mat& probabilities,
                                                       const PolygonOptions& options = {});

// `mask`: CV_8UC1, non-zero = foreground. `probabilities` (optional, may be empty) gives the
// confidences. The threshold option is unused.
Result<std::vector<Polygon>> PolygonsFromMask(const cv::Mat& mask, const cv::Mat& probabilities,
                                              const PolygonOptions& options = {});

// `labels`: CV_32SC1 or CV_16UC1 instance image (0 = background). One external polygon per
// instance (its largest piece when the label is fragmented) plus that piece's holes.
Result<std::vector<Polygon>> PolygonsFromLabels(const cv::Mat& labels, const cv::Mat& probabilities,
                                                const PolygonOptions& options = {});

// An external polygon's index in `polygons` with the indices of its holes.
struct PolygonGroup {
  size_t external = 0;
  std::vector<size_t> holes;
};
std::vector<PolygonGroup> GroupHoles(const std::vector<Polygon>& polygons);

std::string_view PolygonTypeName(PolygonType type);  // "external" / "internal"
nlohmann::json ToJson(const Polygon& polygon);
nlohmann::json ToJson(const std::vector<Polygon>& polygons);

}  // namespace seghub::imaging

#endif  // SEGHUB_IMAGING_POLYGONS_H_
