#include "hub/export_builder.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "hub/result_json.h"
#include "hub/xlsx_writer.h"
#include "hub/zip_staging.h"
#include "imaging/decode.h"
#include "imaging/exports.h"
#include "imaging/imagej_roi.h"
#include "imaging/raster_exports.h"

namespace seghub::hub {
namespace {

namespace fs = std::filesystem;
using ProgressFn = std::function<void(double, const std::string&)>;

constexpr double kImagesShare = 0.85;  // progress fraction for the per-image work
constexpr double kZipStart = 0.9;      // then the collective files; zipping takes the rest

bool Is(const ExportOptions& o, const char* format) {
  return std::find(o.formats.begin(), o.formats.end(), format) != o.formats.end();
}

// User class names may hold invalid UTF-8; replacing beats throwing (json type_error 316).
std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status WithImage(const Status& s, const std::string& name) {
  return Status(s.code(), "image '" + name + "': " + s.message());
}

// Progress that never goes backwards, whatever the stages estimate.
class Reporter {
 public:
  explicit Reporter(const ProgressFn& fn) : fn_(fn) {}
  void operator()(double fraction, const std::string& stage) {
    last_ = std::clamp(std::max(fraction, last_), 0.0, 1.0);
    if (fn_) fn_(last_, stage);
  }

 private:
  const ProgressFn& fn_;
  double last_ = 0.0;
};

bool IsCancelled(const std::atomic<bool>* cancelled) {
  return cancelled != nullptr && cancelled->load(std::memory_order_relaxed);
}

// ---- naming --------------------------------------------------------------------------------

bool ValidUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    const int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

// Keeps [A-Za-z0-9._-] (and UTF-8 letters when the whole name is valid UTF-8), '_' otherwise,
// without runs of '_' or leading/trailing dots, at most `max_bytes` on a character boundary.
std::string SafePart(const std::string& s, size_t max_bytes) {
  const bool utf8 = ValidUtf8(s);
  std::string out;
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    const bool keep = std::isalnum(c) || c == '-' || c == '_' || c == '.' || (c >= 0x80 && utf8);
    const char put = keep ? ch : '_';
    if (put == '_' && !out.empty() && out.back() == '_') continue;
    out += put;
  }
  while (!out.empty() && (out.front() == '.' || out.front() == '_')) out.erase(out.begin());
  if (out.size() > max_bytes) {
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  while (!out.empty() && (out.back() == '.' || out.back() == '_')) out.pop_back();
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Splits a base name into a sanitised stem and extension (".png"; empty when there is none).
std::pair<std::string, std::string> SplitName(const std::string& name) {
  std::string base = name.substr(name.find_last_of("/\\") + 1);  // npos + 1 == 0
  std::string ext;
  const size_t dot = base.find_last_of('.');
  if (dot != std::string::npos && dot > 0 && base.size() - dot <= 11) {
    const std::string e = base.substr(dot + 1);
    if (!e.empty() &&
        std::all_of(e.begin(), e.end(), [](unsigned char c) { return std::isalnum(c); })) {
      ext = "." + e;
      base.resize(dot);
    }
  }
  std::string stem = SafePart(base, 80);
  constexpr std::string_view kReserved =
      " con prn aux nul com1 com2 com3 com4 com5 com6 com7 "
      "com8 com9 lpt1 lpt2 lpt3 lpt4 lpt5 lpt6 lpt7 lpt8 lpt9 ";
  if (stem.empty()) stem = "image";
  // Windows cannot create CON.png.
  if (kReserved.find(" " + Lower(stem) + " ") != std::string_view::npos) stem += "_";
  return {stem, ext};
}

}  // namespace

const std::vector<std::string>& ExportFormatNames() {
  static const std::vector<std::string> kNames = {"coco", "yolo", "geojson", "imagej",
                                                  "csv",  "xlsx", "json"};
  return kNames;
}

Status ValidateExportOptions(const ExportOptions& options) {
  if (options.formats.empty()) return InvalidArgument("choose at least one export format");
  const auto& known = ExportFormatNames();
  for (const std::string& f : options.formats) {
    if (std::find(known.begin(), known.end(), f) == known.end()) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      return InvalidArgument("unknown export format '" + f + "'; known: " + list);
    }
  }
  if (!std::isfinite(options.um_per_px) || options.um_per_px < 0) {
    return InvalidArgument("um_per_px must be a finite number >= 0");
  }
  return Status::Ok();
}

std::vector<ArchiveName> MakeArchiveNames(const std::vector<std::string>& names) {
  std::vector<ArchiveName> out;
  std::set<std::string> taken;  // lower-cased stems
  for (const std::string& name : names) {
    const auto [stem, ext] = SplitName(name);
    std::string unique = stem;
    for (int k = 2; !taken.insert(Lower(unique)).second; ++k)
      unique = stem + "_" + std::to_string(k);
    out.push_back({unique, unique + ext});
  }
  return out;
}

namespace {

// Empty cells (NaN) for images without objects.
double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return 0.5 * (v[(v.size() - 1) / 2] + v[v.size() / 2]);
}

double Mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? NAN : sum / static_cast<double>(v.size());
}

// One export: the per-image loop plus the files gathered over all images.
class ExportRun {
 public:
  ExportRun(const std::vector<ExportImage>& images, const ExportOptions& options,
            ZipStaging* staging)
      : images_(images), options_(options), staging_(staging) {
    std::vector<std::string> names;
    for (const ExportImage& im : images) names.push_back(im.name);
    names_ = MakeArchiveNames(names);
    for (const ExportImage& im : images) {
      for (const imaging::Polygon& p : im.polygons) {
        if (p.type != imaging::PolygonType::kExternal) continue;
        // First appearance, as ToCocoJson numbers its categories: YOLO index = COCO id - 1.
        if (std::find(classes_.begin(), classes_.end(), p.class_name) == classes_.end()) {
          classes_.push_back(p.class_name);
        }
      }
    }
  }

  Status Image(size_t i);
  Status Collective();
  Status Readme(const std::string& project_name);

 private:
  std::string Unit() const { return options_.um_per_px > 0 ? "um" : "px"; }
  imaging::ExportImage ToImaging(size_t i) const {
    return {names_[i].file_name, images_[i].width, images_[i].height, images_[i].polygons,
            options_.um_per_px};
  }
  Status Annotations(size_t i, const std::map<int, imaging::ShapeMetrics>& metrics);
  Status Originals(size_t i);
  void TableRows(size_t i, const std::map<int, imaging::ShapeMetrics>& metrics);

  const std::vector<ExportImage>& images_;
  const ExportOptions& options_;
  ZipStaging* staging_;
  std::vector<ArchiveName> names_;
  std::vector<std::string> classes_;
  std::vector<std::vector<XlsxCell>> summary_rows_, polygon_rows_;
  std::vector<std::string> without_original_;
  size_t objects_ = 0, holes_ = 0;
};

Status ExportRun::Image(size_t i) {
  const ExportImage& im = images_[i];
  const auto metrics = ComputeAllMetrics(im.polygons, options_.um_per_px);
  Status s = Annotations(i, metrics);
  if (s.ok()) s = Originals(i);
  if (!s.ok()) return WithImage(s, im.name);
  TableRows(i, metrics);
  return Status::Ok();
}

Status ExportRun::Annotations(size_t i, const std::map<int, imaging::ShapeMetrics>& metrics) {
  const ExportImage& im = images_[i];
  const imaging::ExportImage image = ToImaging(i);
  const std::string& stem = names_[i].stem;
  if (Is(options_, "yolo")) {
    SEGHUB_ASSIGN_OR_RETURN(const std::string text, imaging::ToYoloSegmentation(image, classes_));
    SEGHUB_RETURN_IF_ERROR(staging_->Add("annotations/yolo/" + stem + ".txt", text, true));
  }
  if (Is(options_, "geojson")) {
    SEGHUB_ASSIGN_OR_RETURN(const nlohmann::json j, imaging::ToGeoJson(image));
    SEGHUB_RETURN_IF_ERROR(
        staging_->Add("annotations/geojson/" + stem + ".geojson", Dump(j), true));
  }
  if (Is(options_, "imagej")) {
    SEGHUB_ASSIGN_OR_RETURN(const auto zip, imaging::EncodeImageJRoiZip(im.polygons));
    const std::string_view bytes(reinterpret_cast<const char*>(zip.data()), zip.size());
    SEGHUB_RETURN_IF_ERROR(staging_->Add("annotations/imagej/" + stem + ".zip", bytes, false));
  }
  if (Is(options_, "json")) {
    nlohmann::json body = {{"success", true},
                           {"image", im.name},
                           {"image_id", im.id},
                           {"model_used", im.model},
                           {"threshold_used", im.threshold},
                           {"image_size", {{"width", im.width}, {"height", im.height}}},
                           {"polygons", PolygonsToJson(im.polygons, &metrics, options_.um_per_px)}};
    if (options_.um_per_px > 0) body["um_per_px"] = options_.um_per_px;
    SEGHUB_RETURN_IF_ERROR(staging_->Add("annotations/json/" + stem + ".json", Dump(body), true));
  }
  return Status::Ok();
}

Status ExportRun::Originals(size_t i) {
  if (!options_.include_originals && !options_.include_overlays) return Status::Ok();
  const ExportImage& im = images_[i];
  if (!im.load_original) {
    without_original_.push_back(im.name);
    return Status::Ok();
  }
  SEGHUB_ASSIGN_OR_RETURN(const std::string bytes, im.load_original());
  if (options_.include_originals) {
    SEGHUB_RETURN_IF_ERROR(staging_->Add("images/" + names_[i].file_name, bytes, false));
  }
  if (options_.include_overlays) {
    imaging::DecodeLimits limits;
    limits.max_bytes = std::max<uint64_t>(limits.max_bytes, bytes.size());
    const std::span<const uint8_t> data(reinterpret_cast<const uint8_t*>(bytes.data()),
                                        bytes.size());
    SEGHUB_ASSIGN_OR_RETURN(const imaging::DecodedImage decoded,
                            imaging::DecodeImage(data, limits));
    // Outlines stay visible when a large image is viewed zoomed out.
    const int thickness = std::max(2, std::min(im.width, im.height) / 400);
    SEGHUB_ASSIGN_OR_RETURN(const auto png,
                            imaging::RenderOverlayPng(decoded.pixels, im.polygons, thickness));
    const std::string_view view(reinterpret_cast<const char*>(png.data()), png.size());
    SEGHUB_RETURN_IF_ERROR(staging_->Add("overlays/" + names_[i].stem + ".png", view, false));
  }
  return Status::Ok();
}

void ExportRun::TableRows(size_t i, const std::map<int, imaging::ShapeMetrics>& metrics) {
  const ExportImage& im = images_[i];
  std::vector<double> areas, diameters, circularities, solidities;
  size_t objects = 0, holes = 0;
  for (const imaging::Polygon& p : im.polygons) {
    if (p.type != imaging::PolygonType::kExternal) {
      ++holes;
      continue;
    }
    ++objects;
    const auto it = metrics.find(p.id);
    if (it == metrics.end()) continue;  // no defined metrics: not in the CSV either
    const nlohmann::json m = imaging::ToJson(it->second);
    std::vector<XlsxCell> row = {names_[i].file_name, static_cast<double>(p.id), p.class_name,
                                 p.confidence, Unit()};
    for (const std::string& c : imaging::MetricColumns()) row.emplace_back(m[c].get<double>());
    polygon_rows_.push_back(std::move(row));
    areas.push_back(it->second.area);
    diameters.push_back(it->second.equivalent_diameter);
    circularities.push_back(it->second.circularity);
    solidities.push_back(it->second.solidity);
  }
  objects_ += objects;
  holes_ += holes;
  const double min_area = areas.empty() ? NAN : *std::min_element(areas.begin(), areas.end());
  const double max_area = areas.empty() ? NAN : *std::max_element(areas.begin(), areas.end());
  summary_rows_.push_back({names_[i].file_name, im.name, im.id, static_cast<double>(im.width),
                           static_cast<double>(im.height), im.model, im.threshold,
                           static_cast<double>(objects), static_cast<double>(holes), Mean(areas),
                           Median(areas), min_area, max_area, Mean(diameters), Mean(circularities),
                           Mean(solidities), Unit()});
}

Status ExportRun::Collective() {
  std::vector<imaging::ExportImage> all;
  if (Is(options_, "coco") || Is(options_, "csv")) {
    for (size_t i = 0; i < images_.size(); ++i) all.push_back(ToImaging(i));
  }
  if (Is(options_, "coco")) {
    SEGHUB_ASSIGN_OR_RETURN(const nlohmann::json coco, imaging::ToCocoJson(all));
    SEGHUB_RETURN_IF_ERROR(staging_->Add("annotations/coco.json", Dump(coco), true));
  }
  if (Is(options_, "yolo")) {
    std::string text;
    for (const std::string& c : classes_) text += c + "\n";
    SEGHUB_RETURN_IF_ERROR(staging_->Add("annotations/yolo/classes.txt", text, true));
  }
  if (Is(options_, "csv")) {
    SEGHUB_ASSIGN_OR_RETURN(const std::string csv, imaging::ToMetricsCsv(all));
    SEGHUB_RETURN_IF_ERROR(staging_->Add("metrics/metrics.csv", csv, true));
  }
  if (Is(options_, "xlsx")) {
    XlsxSheet summary{
        "Summary",
        {"image", "original name", "image id", "width", "height", "model", "threshold", "objects",
         "holes", "mean area", "median area", "min area", "max area", "mean equivalent diameter",
         "mean circularity", "mean solidity", "unit"},
        std::move(summary_rows_)};
    XlsxSheet polygons{"Polygons",
                       {"image", "polygon_id", "class", "confidence", "unit"},
                       std::move(polygon_rows_)};
    for (const std::string& c : imaging::MetricColumns()) polygons.header.push_back(c);
    SEGHUB_ASSIGN_OR_RETURN(const std::string xlsx, WriteXlsx({summary, polygons}));
    SEGHUB_RETURN_IF_ERROR(staging_->Add("metrics/metrics.xlsx", xlsx, true));
  }
  return Status::Ok();
}

std::string UtcNow() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

// README lines per format, or per option ("originals", "overlays"): path, then description.
constexpr const char* kReadmeItems[][3] = {
    {"coco", "annotations/coco.json",
     "COCO instance segmentation of all images; objects with holes as uncompressed RLE"},
    {"yolo", "annotations/yolo/<image>.txt, classes.txt",
     "YOLO segmentation: normalised outer rings (no holes); class = line of classes.txt"},
    {"geojson", "annotations/geojson/<image>.geojson",
     "GeoJSON for QuPath (File > Import objects); holes as interior rings"},
    {"imagej", "annotations/imagej/<image>.zip",
     "ImageJ/Fiji ROI sets (ROI Manager); each hole is a ROI named <object>-hole-<n>"},
    {"json", "annotations/json/<image>.json", "seghub/Hub result JSON with per-polygon metrics"},
    {"csv", "metrics/metrics.csv", "one row per object: image, polygon_id, class, 18 metrics"},
    {"xlsx", "metrics/metrics.xlsx", "sheets Summary (per image) and Polygons (as the CSV)"},
    {"originals", "images/", "the original image files"},
    {"overlays", "overlays/<image>.png", "outlines on the original: objects green, holes red"}};

Status ExportRun::Readme(const std::string& project_name) {
  std::string r = "seghub export of project \"" + project_name + "\"\nCreated " + UtcNow() + "\n" +
                  std::to_string(images_.size()) + " images, " + std::to_string(objects_) +
                  " objects (external polygons), " + std::to_string(holes_) +
                  " holes\n\nContents\n";
  for (const auto& [key, path, what] : kReadmeItems) {
    const std::string k = key;
    if ((k == "originals" && options_.include_originals) ||
        (k == "overlays" && options_.include_overlays) || Is(options_, key)) {
      r += std::string("  ") + path + "\n      " + what + "\n";
    }
  }
  r += "\nScale and units\n  Polygon coordinates are pixels (x right, y down) in every format.\n";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.10g", options_.um_per_px);
  r += options_.um_per_px > 0
           ? std::string("  Metrics use ") + buf + " um per pixel: lengths in um, areas in um^2.\n"
           : "  No scale was given: metric lengths are in px, areas in px^2.\n";
  r += "\nImage names (archive name <- uploaded name, where they differ)\n";
  for (size_t i = 0; i < images_.size(); ++i) {
    if (names_[i].file_name != images_[i].name) {
      r += "  " + names_[i].file_name + " <- " + images_[i].name + "\n";
    }
  }
  if (!without_original_.empty()) r += "\nNo original file was available for:\n";
  for (const std::string& n : without_original_) r += "  " + n + "\n";
  return staging_->Add("README.txt", r, true, /*first=*/true);
}

}  // namespace

Result<int64_t> WriteExportZip(const std::string& project_name,
                               const std::vector<ExportImage>& images, const ExportOptions& options,
                               const fs::path& out_zip, const ProgressFn& progress,
                               const std::atomic<bool>* cancelled) {
  SEGHUB_RETURN_IF_ERROR(ValidateExportOptions(options));
  for (const ExportImage& im : images) {
    if (im.width <= 0 || im.height <= 0)
      return InvalidArgument("image '" + im.name + "' has no size");
  }
  Reporter report(progress);
  report(0.0, "preparing");
  ZipStaging staging(out_zip);
  ExportRun run(images, options, &staging);
  for (size_t i = 0; i < images.size(); ++i) {
    if (IsCancelled(cancelled)) return Cancelled("export cancelled");
    report(kImagesShare * static_cast<double>(i) / images.size(),
           "image " + std::to_string(i + 1) + " of " + std::to_string(images.size()));
    SEGHUB_RETURN_IF_ERROR(run.Image(i));
  }
  if (IsCancelled(cancelled)) return Cancelled("export cancelled");
  report(kImagesShare, "annotations and metrics");
  SEGHUB_RETURN_IF_ERROR(run.Collective());
  SEGHUB_RETURN_IF_ERROR(run.Readme(project_name));
  if (IsCancelled(cancelled)) return Cancelled("export cancelled");
  report(kZipStart, "writing archive");
  const auto zip_progress = [&report](double f) {
    report(kZipStart + (1.0 - kZipStart) * 0.99 * f, "writing archive");
  };
  SEGHUB_ASSIGN_OR_RETURN(const int64_t size, staging.Commit(zip_progress, cancelled));
  report(1.0, "done");
  return size;
}

}  // namespace seghub::hub
