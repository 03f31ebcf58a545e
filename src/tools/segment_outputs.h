// What `seghub segment` writes into --out. Per image, as results arrive: <name>.json (the Hub
// JSON plus "file" and "um_per_px"; always written, and written last, because its presence marks
// the image as done for resuming), <name>.labels.png, <name>.overlay.png, <name>.geojson,
// <name>.txt (YOLO), <name>.roi.zip. Per dataset, at the end: coco.json and metrics.csv, rebuilt
// from the per-image JSONs so that a resumed run still covers every image.
#ifndef SEGHUB_TOOLS_SEGMENT_OUTPUTS_H_
#define SEGHUB_TOOLS_SEGMENT_OUTPUTS_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "imaging/exports.h"
#include "pipeline/segment_service.h"

namespace seghub::tools {

struct OutputFormats {
  bool json = true;  // per-image Hub JSON: always on (resuming needs it)
  bool coco = false;
  bool yolo = false;
  bool geojson = false;
  bool imagej = false;
  bool csv = false;
  bool labels = false;
  bool overlay = false;
};

// Comma-separated names from coco,yolo,geojson,imagej,csv,labels,overlay,json.
Result<OutputFormats> ParseOutputFormats(const std::string& list);

// Dataset-level file names: an image output name may not take them.
std::vector<std::string> ReservedOutputNames();

// Hub JSON of one image plus "file" (the input path) and "um_per_px".
nlohmann::json PerImageJson(const pipeline::SegmentResult& result, const std::string& file);

// Reads back what PerImageJson wrote (polygons, size, pixel size); file_name = the input's
// file name without its folder.
Result<imaging::ExportImage> ExportImageFromJson(const nlohmann::json& j);

std::string PerImageJsonPath(const std::string& out_dir, const std::string& name);

// Every per-image file `formats` asks for; the JSON last. `result.image` is needed for overlays.
Status WritePerImageOutputs(const std::string& out_dir, const std::string& name,
                            const OutputFormats& formats, const pipeline::SegmentResult& result,
                            const nlohmann::json& per_image_json);

// coco.json / metrics.csv (when asked for) from <out>/<name>.json for each of `names`, in order.
// Names without a readable JSON (failed images) are left out and counted in *missing.
Status WriteDatasetOutputs(const std::string& out_dir, const OutputFormats& formats,
                           const std::vector<std::string>& names, int* missing);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_SEGMENT_OUTPUTS_H_
