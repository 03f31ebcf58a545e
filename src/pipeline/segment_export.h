// One segmentation result rendered in any of seghub's export formats, in memory: what
// /api/v1/segment returns for `format=...` (the CLI writes the same formats to files).
// Pure functions; thread-safe.
#ifndef SEGHUB_PIPELINE_SEGMENT_EXPORT_H_
#define SEGHUB_PIPELINE_SEGMENT_EXPORT_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "imaging/exports.h"
#include "pipeline/segment_service.h"

namespace seghub::pipeline {

struct RenderedExport {
  std::string content_type;
  std::string body;
  std::string file_extension;  // ".json", ".png", ".zip", ...
};

// Formats: "hub" (the Hub JSON), "coco", "yolo", "geojson", "csv", "imagej", "labels",
// "overlay". `labels` and `overlay` need the result's image (SegmentRequest::keep_image).
std::vector<std::string> ExportFormats();
bool FormatNeedsImage(std::string_view format);

// kInvalidArgument for an unknown format (listing the known ones).
Result<RenderedExport> RenderExport(const SegmentResult& result, std::string_view format,
                                    const std::string& file_name);

imaging::ExportImage ToExportImage(const SegmentResult& result, const std::string& file_name);

}  // namespace seghub::pipeline

#endif  // SEGHUB_PIPELINE_SEGMENT_EXPORT_H_
