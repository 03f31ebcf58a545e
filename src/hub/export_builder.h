// Export archives: a project's segmentations as one ZIP with annotations in several formats,
// metrics tables, and optionally the original images and outline overlays.
//
//   README.txt                      what is where, scale and units, image name mapping
//   annotations/coco.json           one COCO file for all images (holes as uncompressed RLE)
//   annotations/yolo/<stem>.txt     YOLO segmentation, outer rings; classes.txt lists classes
//   annotations/geojson/<stem>.geojson   QuPath-compatible FeatureCollection (holes kept)
//   annotations/imagej/<stem>.zip   ImageJ/Fiji ROI set
//   annotations/json/<stem>.json    the Hub result JSON with per-polygon metrics
//   metrics/metrics.csv             one row per external polygon (18 shape metrics)
//   metrics/metrics.xlsx            sheets "Summary" (per image) and "Polygons" (as the CSV)
//   images/<name>                   originals (include_originals)
//   overlays/<stem>.png             outlines drawn on the original (include_overlays)
//
// The formats themselves are imaging/exports.h, imaging/imagej_roi.h and
// imaging/raster_exports.h; this module only names, gathers and zips. Polygon coordinates are
// always pixels; metrics are µm / µm² when um_per_px > 0.
// Memory: every entry is staged in a temporary folder beside the output, so one image's
// original is in memory at a time; libzip streams the staged files at the end.
#ifndef SEGHUB_HUB_EXPORT_BUILDER_H_
#define SEGHUB_HUB_EXPORT_BUILDER_H_

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "imaging/polygons.h"

namespace seghub::hub {

struct ExportImage {
  std::string id;
  std::string name;  // the uploaded file name; sanitised for the archive
  int width = 0;
  int height = 0;
  std::vector<imaging::Polygon> polygons;
  std::string model;
  double threshold = 0;
  // The original file's bytes; called only when originals or overlays are requested, from the
  // thread that runs WriteExportZip. May be empty: the image then has no original/overlay.
  std::function<Result<std::string>()> load_original;
};

struct ExportOptions {
  std::vector<std::string> formats;  // any of ExportFormatNames()
  bool include_originals = false;
  bool include_overlays = false;
  double um_per_px = 0;  // > 0: metrics in µm
};

// "coco", "yolo", "geojson", "imagej", "csv", "xlsx", "json". Any thread.
const std::vector<std::string>& ExportFormatNames();

// kInvalidArgument for no formats, an unknown format (named in the message), or a scale that
// is negative or not finite. Any thread.
Status ValidateExportOptions(const ExportOptions& options);

// Archive names of one image: `stem` names its per-image files, `file_name` (stem plus the
// sanitised extension) its original under images/ and its COCO file_name.
struct ArchiveName {
  std::string stem;
  std::string file_name;
};

// Safe, unique archive names for uploaded names, in order: the base name only (no folders, no
// "..", no leading dots), characters outside [A-Za-z0-9._-] and non-UTF-8 bytes as '_',
// at most 80 bytes, never empty; collisions (case-insensitive, as on Windows and macOS) get
// "_2", "_3", ...: a.png + a.tif -> a, a_2. Any thread.
std::vector<ArchiveName> MakeArchiveNames(const std::vector<std::string>& names);

// Writes the archive for `images` to `out_zip` atomically (a temporary file in the same folder,
// renamed at the end; nothing is left behind on error or cancellation) and returns its size in
// bytes. Call from one worker thread: `progress(fraction, stage)` is called from it with
// non-decreasing fractions ending at 1.0; `cancelled` (may be null) is polled between images
// and while zipping and yields kCancelled. Errors: kInvalidArgument (options, an image without
// a size, polygons a format cannot express, e.g. ImageJ coordinates over 32767), errors of
// load_original (prefixed with the image name), kInternal (I/O, libzip).
Result<int64_t> WriteExportZip(const std::string& project_name,
                               const std::vector<ExportImage>& images, const ExportOptions& options,
                               const std::filesystem::path& out_zip,
                               const std::function<void(double, const std::string&)>& progress,
                               const std::atomic<bool>* cancelled);

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_EXPORT_BUILDER_H_
