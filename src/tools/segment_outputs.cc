#include "tools/segment_outputs.h"

#include <filesystem>
#include <sstream>

#include "imaging/imagej_roi.h"
#include "imaging/raster_exports.h"
#include "tools/file_walk.h"

namespace seghub::tools {
namespace fs = std::filesystem;
namespace {

constexpr char kCocoFile[] = "coco.json";
constexpr char kCsvFile[] = "metrics.csv";

std::string Join(const std::string& dir, const std::string& file) {
  return (fs::path(dir) / file).string();
}

std::string Bytes(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

Result<imaging::Polygon> PolygonFromJson(const nlohmann::json& j) {
  imaging::Polygon p;
  try {
    p.id = j.at("id").get<int>();
    for (const auto& pt : j.at("points")) {
      p.points.emplace_back(pt.at("x").get<float>(), pt.at("y").get<float>());
    }
    p.type = j.value("type", std::string("external")) == "internal"
                 ? imaging::PolygonType::kInternal
                 : imaging::PolygonType::kExternal;
    if (j.contains("parent_id") && !j["parent_id"].is_null()) {
      p.parent_id = j["parent_id"].get<int>();
    }
    p.class_name = j.value("class", std::string("spheroid"));
    p.confidence = j.value("confidence", 1.0);
    p.area = j.value("area", 0.0);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("bad polygon: ") + e.what());
  }
  return p;
}

}  // namespace

Result<OutputFormats> ParseOutputFormats(const std::string& list) {
  OutputFormats f;
  std::stringstream in(list);
  std::string name;
  while (std::getline(in, name, ',')) {
    if (name.empty()) continue;
    if (name == "json") {
      f.json = true;
    } else if (name == "coco") {
      f.coco = true;
    } else if (name == "yolo") {
      f.yolo = true;
    } else if (name == "geojson") {
      f.geojson = true;
    } else if (name == "imagej") {
      f.imagej = true;
    } else if (name == "csv") {
      f.csv = true;
    } else if (name == "labels") {
      f.labels = true;
    } else if (name == "overlay") {
      f.overlay = true;
    } else {
      return InvalidArgument("unknown format '" + name +
                             "' (coco, yolo, geojson, imagej, csv, labels, overlay, json)");
    }
  }
  return f;
}

std::vector<std::string> ReservedOutputNames() { return {"coco", "metrics"}; }

nlohmann::json PerImageJson(const pipeline::SegmentResult& result, const std::string& file) {
  nlohmann::json j = {{"file", file}};
  j.update(pipeline::SegmentResultToHubJson(result));
  j["um_per_px"] = result.um_per_px;
  return j;
}

Result<imaging::ExportImage> ExportImageFromJson(const nlohmann::json& j) {
  imaging::ExportImage image;
  try {
    image.file_name = fs::path(j.at("file").get<std::string>()).filename().string();
    image.width = j.at("image_size").at("width").get<int>();
    image.height = j.at("image_size").at("height").get<int>();
    image.um_per_px = j.value("um_per_px", 0.0);
    for (const auto& p : j.at("polygons")) {
      SEGHUB_ASSIGN_OR_RETURN(imaging::Polygon polygon, PolygonFromJson(p));
      image.polygons.push_back(std::move(polygon));
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("bad per-image JSON: ") + e.what());
  }
  return image;
}

std::string PerImageJsonPath(const std::string& out_dir, const std::string& name) {
  return Join(out_dir, name + ".json");
}

Status WritePerImageOutputs(const std::string& out_dir, const std::string& name,
                            const OutputFormats& formats, const pipeline::SegmentResult& result,
                            const nlohmann::json& per_image_json) {
  const std::string base = Join(out_dir, name);
  imaging::ExportImage image;
  image.file_name = per_image_json.value("file", name);
  image.width = result.width;
  image.height = result.height;
  image.polygons = result.polygons;
  image.um_per_px = result.um_per_px;
  if (formats.labels) {
    SEGHUB_ASSIGN_OR_RETURN(
        cv::Mat labels, imaging::RenderLabelImage(result.polygons, {result.width, result.height}));
    SEGHUB_ASSIGN_OR_RETURN(auto png, imaging::EncodePng(labels));
    SEGHUB_RETURN_IF_ERROR(WriteFileAtomically(base + ".labels.png", Bytes(png)));
  }
  if (formats.overlay) {
    if (result.image.empty()) return Internal("overlay requested but the image was not kept");
    SEGHUB_ASSIGN_OR_RETURN(auto png, imaging::RenderOverlayPng(result.image, result.polygons));
    SEGHUB_RETURN_IF_ERROR(WriteFileAtomically(base + ".overlay.png", Bytes(png)));
  }
  if (formats.geojson) {
    SEGHUB_ASSIGN_OR_RETURN(nlohmann::json geo, imaging::ToGeoJson(image));
    SEGHUB_RETURN_IF_ERROR(WriteFileAtomically(base + ".geojson", geo.dump()));
  }
  if (formats.yolo) {
    SEGHUB_ASSIGN_OR_RETURN(std::string yolo, imaging::ToYoloSegmentation(image));
    SEGHUB_RETURN_IF_ERROR(WriteFileAtomically(base + ".txt", yolo));
  }
  if (formats.imagej) {
    SEGHUB_ASSIGN_OR_RETURN(auto zip, imaging::EncodeImageJRoiZip(result.polygons));
    SEGHUB_RETURN_IF_ERROR(WriteFileAtomically(base + ".roi.zip", Bytes(zip)));
  }
  // Last: its presence is what marks the image as done.
  return WriteFileAtomically(PerImageJsonPath(out_dir, name), per_image_json.dump());
}

Status WriteDatasetOutputs(const std::string& out_dir, const OutputFormats& formats,
                           const std::vector<std::string>& names, int* missing) {
  *missing = 0;
  if (!formats.coco && !formats.csv) return Status::Ok();
  std::vector<imaging::ExportImage> images;
  for (const std::string& name : names) {
    Result<std::string> text = ReadFileBytes(PerImageJsonPath(out_dir, name));
    if (!text.ok()) {
      ++*missing;
      continue;
    }
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    Result<imaging::ExportImage> image =
        j.is_discarded() ? Result<imaging::ExportImage>(InvalidArgument("not JSON"))
                         : ExportImageFromJson(j);
    if (!image.ok()) {
      ++*missing;
      continue;
    }
    images.push_back(std::move(image).value());
  }
  if (formats.coco) {
    SEGHUB_ASSIGN_OR_RETURN(nlohmann::json coco, imaging::ToCocoJson(images));
    SEGHUB_RETURN_IF_ERROR(WriteFileAtomically(Join(out_dir, kCocoFile), coco.dump()));
  }
  if (formats.csv) {
    SEGHUB_ASSIGN_OR_RETURN(std::string csv, imaging::ToMetricsCsv(images));
    SEGHUB_RETURN_IF_ERROR(WriteFileAtomically(Join(out_dir, kCsvFile), csv));
  }
  return Status::Ok();
}

}  // namespace seghub::tools
