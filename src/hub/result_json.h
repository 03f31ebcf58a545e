// The stored segmentation result (the Hub's /api/v1/segment body, see
// pipeline::SegmentResultToHubJson) to and from imaging::Polygon. Polygons coming back from a
// browser (user edits) are untrusted: PolygonsFromJson validates everything and recomputes each
// ring's area instead of trusting the client's; client metrics are ignored (ComputeAllMetrics).
// Pure functions; thread-safe: any thread may call them.
#ifndef SEGHUB_HUB_RESULT_JSON_H_
#define SEGHUB_HUB_RESULT_JSON_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "imaging/polygons.h"
#include "imaging/shape_metrics.h"

namespace seghub::hub {

// Limits for one image's polygon list.
inline constexpr size_t kMaxPolygons = 100'000;
inline constexpr size_t kMaxTotalPoints = 1'000'000;
inline constexpr double kMaxAbsCoordinate = 1e6;
inline constexpr size_t kMaxClassNameBytes = 256;

// `polygons`: [{id, points:[{x,y}...], type, parent_id?, class?, confidence?, ...}]. Rules: an
// array of at most kMaxPolygons objects with kMaxTotalPoints points in all; ids are unique
// positive integers; each polygon has >= 3 points with finite |x|,|y| < kMaxAbsCoordinate; type
// is "external" or "internal"; an internal one's parent_id names an external of the list, an
// external has none (null is accepted); class (default "spheroid") is a short string;
// confidence (default 1) is in [0, 1]. "area" and "metrics" are ignored and recomputed.
// Errors: kInvalidArgument naming the polygon (index and id) and the problem.
Result<std::vector<imaging::Polygon>> PolygonsFromJson(const nlohmann::json& polygons);

// The Hub body's "polygons" array (as SegmentResultToHubJson writes it). `metrics` (external
// polygon id -> metrics, may be null) must be in µm when um_per_px > 0, else in px.
nlohmann::json PolygonsToJson(const std::vector<imaging::Polygon>& polygons,
                              const std::map<int, imaging::ShapeMetrics>* metrics,
                              double um_per_px);

// Metrics of every external polygon with its holes, keyed by the external's id, exactly as the
// segment service computes them; um_per_px > 0 gives µm / µm², 0 pixels. Degenerate outlines
// have no defined metrics and no entry.
std::map<int, imaging::ShapeMetrics> ComputeAllMetrics(
    const std::vector<imaging::Polygon>& polygons, double um_per_px = 0.0);

// The parts of a stored result body the Hub needs back.
struct StoredResult {
  std::string model;
  double threshold = 0.0;
  int width = 0;
  int height = 0;
  std::vector<imaging::Polygon> polygons;
};

// Parses {model_used, threshold_used, image_size:{width,height}, polygons}; the polygons are
// validated as by PolygonsFromJson, the size must be positive. Errors: kInvalidArgument.
Result<StoredResult> StoredResultFromJson(const nlohmann::json& body);

// The body for `result` with metrics computed in the given scale (success, model_used,
// threshold_used, image_size, polygons; "um_per_px" when > 0).
nlohmann::json StoredResultToJson(const StoredResult& result, double um_per_px = 0.0);

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_RESULT_JSON_H_
