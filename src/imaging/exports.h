// Text export formats for segmentation results: COCO JSON, YOLO segmentation, metrics CSV and
// GeoJSON (QuPath-compatible). Raster exports (label PNG, overlay) are in raster_exports.h.
//
// Holes: COCO polygon lists cannot express holes (several polygons are a union), so an object
// with holes is written as an uncompressed RLE mask (column-major counts, pycocotools' format),
// as the Hub does; objects without holes stay polygons. YOLO segmentation has no holes either:
// only the outer ring is written. GeoJSON keeps holes as interior rings.
// Pure functions; thread-safe.
#ifndef SEGHUB_IMAGING_EXPORTS_H_
#define SEGHUB_IMAGING_EXPORTS_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "imaging/polygons.h"
#include "imaging/shape_metrics.h"

namespace seghub::imaging {

// One segmented image as the exporters see it.
struct ExportImage {
  std::string file_name;
  int width = 0;
  int height = 0;
  std::vector<Polygon> polygons;  // externals with their internals (parent_id)
  double um_per_px = 0.0;         // > 0: metrics in µm / µm²; 0: pixels
};

// COCO instance segmentation: images (id = index + 1), one annotation per external polygon,
// categories from the polygons' class names (ids by first appearance, from 1).
Result<nlohmann::json> ToCocoJson(const std::vector<ExportImage>& images);

// YOLO segmentation lines "<class> x1 y1 x2 y2 ..." with coordinates normalised to [0,1];
// `class_index` for every polygon (seghub models are single-class).
Result<std::string> ToYoloSegmentation(const ExportImage& image, int class_index = 0);

// As above with each polygon's class index = its class_name's position in `class_names`
// (several images sharing one classes.txt); kInvalidArgument for a class not in the list.
Result<std::string> ToYoloSegmentation(const ExportImage& image,
                                       const std::vector<std::string>& class_names);

// The Hub's metric keys in its table order (the CSV columns after `unit`).
const std::vector<std::string>& MetricColumns();

// One row per external polygon: image, polygon_id, class, confidence, unit, then the Hub's
// metric columns (Area, Perimeter, ...). Polygons whose metrics are undefined are skipped.
Result<std::string> ToMetricsCsv(const std::vector<ExportImage>& images);

// A FeatureCollection with one Polygon feature per external (closed rings; exterior
// counter-clockwise and holes clockwise in x/y, RFC 7946) and QuPath's properties
// (objectType "annotation", classification {name, color}).
Result<nlohmann::json> ToGeoJson(const ExportImage& image);

// The Hub body's "polygons" array: ToJson(polygon) plus, for polygons with an entry in
// `metrics` (external id -> metrics, may be null), "metrics" and "metrics_unit" ("um" when
// um_per_px > 0, else "px"; the metrics must already be in that unit).
nlohmann::json HubPolygonsJson(const std::vector<Polygon>& polygons,
                               const std::map<int, ShapeMetrics>* metrics, double um_per_px);

}  // namespace seghub::imaging

#endif  // SEGHUB_IMAGING_EXPORTS_H_
