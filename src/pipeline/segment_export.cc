#include "pipeline/segment_export.h"

#include "imaging/imagej_roi.h"
#include "imaging/raster_exports.h"

namespace seghub::pipeline {
namespace {

std::string Bytes(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

}  // namespace

std::vector<std::string> ExportFormats() {
  return {"hub", "coco", "yolo", "geojson", "csv", "imagej", "labels", "overlay"};
}

bool FormatNeedsImage(std::string_view format) { return format == "labels" || format == "overlay"; }

imaging::ExportImage ToExportImage(const SegmentResult& result, const std::string& file_name) {
  imaging::ExportImage image;
  image.file_name = file_name;
  image.width = result.width;
  image.height = result.height;
  image.polygons = result.polygons;
  image.um_per_px = result.um_per_px;
  return image;
}

Result<RenderedExport> RenderExport(const SegmentResult& result, std::string_view format,
                                    const std::string& file_name) {
  const imaging::ExportImage image = ToExportImage(result, file_name);
  if (format == "hub") {
    return RenderedExport{"application/json", SegmentResultToHubJson(result).dump(), ".json"};
  }
  if (format == "coco") {
    SEGHUB_ASSIGN_OR_RETURN(nlohmann::json j, imaging::ToCocoJson({image}));
    return RenderedExport{"application/json", j.dump(), ".coco.json"};
  }
  if (format == "geojson") {
    SEGHUB_ASSIGN_OR_RETURN(nlohmann::json j, imaging::ToGeoJson(image));
    return RenderedExport{"application/geo+json", j.dump(), ".geojson"};
  }
  if (format == "yolo") {
    SEGHUB_ASSIGN_OR_RETURN(std::string text, imaging::ToYoloSegmentation(image));
    return RenderedExport{"text/plain; charset=utf-8", std::move(text), ".txt"};
  }
  if (format == "csv") {
    SEGHUB_ASSIGN_OR_RETURN(std::string text, imaging::ToMetricsCsv({image}));
    return RenderedExport{"text/csv; charset=utf-8", std::move(text), ".csv"};
  }
  if (format == "imagej") {
    SEGHUB_ASSIGN_OR_RETURN(auto zip, imaging::EncodeImageJRoiZip(result.polygons));
    return RenderedExport{"application/zip", Bytes(zip), ".roi.zip"};
  }
  if (FormatNeedsImage(format) && result.image.empty()) {
    return InvalidArgument("format '" + std::string(format) + "' needs the decoded image");
  }
  if (format == "labels") {
    SEGHUB_ASSIGN_OR_RETURN(
        cv::Mat labels, imaging::RenderLabelImage(result.polygons, {result.width, result.height}));
    SEGHUB_ASSIGN_OR_RETURN(auto png, imaging::EncodePng(labels));
    return RenderedExport{"image/png", Bytes(png), ".labels.png"};
  }
  if (format == "overlay") {
    SEGHUB_ASSIGN_OR_RETURN(auto png, imaging::RenderOverlayPng(result.image, result.polygons));
    return RenderedExport{"image/png", Bytes(png), ".overlay.png"};
  }
  std::string known;
  for (const std::string& f : ExportFormats()) known += (known.empty() ? "" : ", ") + f;
  return InvalidArgument("unknown format '" + std::string(format) + "'; known: " + known);
}

}  // namespace seghub::pipeline
