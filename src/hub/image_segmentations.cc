// ImageService: segmentation versions (kept apart from uploads to keep files small).
#include "hub/image_service.h"
#include "hub/result_json.h"

namespace seghub::hub {
namespace {

constexpr const char* kSegColumns =
    "image_id, version, source, COALESCE(model, ''), COALESCE(threshold, 0), polygon_count, "
    "result_json, COALESCE(created_by, ''), created_at";

Result<Segmentation> SegFromRow(const storage::Row& r, bool with_result) {
  Segmentation s;
  s.image_id = r.Text(0);
  s.version = r.Int(1);
  s.source = r.Text(2);
  s.model = r.Text(3);
  s.threshold = r.Double(4);
  s.polygon_count = r.Int(5);
  if (with_result) {
    try {
      s.result = nlohmann::json::parse(r.Text(6));
    } catch (const nlohmann::json::exception& e) {
      return Internal("stored segmentation is not JSON: " + std::string(e.what()));
    }
  }
  s.created_by = r.Text(7);
  s.created_at_ms = r.Int(8);
  return s;
}

}  // namespace

nlohmann::json SegmentationToJson(const Segmentation& s, bool with_result) {
  nlohmann::json j = {{"image_id", s.image_id},     {"version", s.version},
                      {"source", s.source},         {"model", s.model},
                      {"threshold", s.threshold},   {"polygon_count", s.polygon_count},
                      {"created_by", s.created_by}, {"created_at", Iso8601(s.created_at_ms)}};
  if (with_result) {
    j["polygons"] = s.result.value("polygons", nlohmann::json::array());
    if (s.result.contains("image_size")) j["image_size"] = s.result["image_size"];
    for (const char* key : {"processing_time", "inference_time", "preprocessing_time",
                            "postprocessing_time", "device", "unit"}) {
      if (s.result.contains(key)) j[key] = s.result[key];
    }
  }
  return j;
}

Result<Segmentation> ImageService::GetSegmentation(const std::string& user_id,
                                                   const std::string& image_id,
                                                   std::optional<int64_t> version) {
  SEGHUB_RETURN_IF_ERROR(Access(user_id, image_id, Role::kViewer).status());
  std::string sql = std::string("SELECT ") + kSegColumns + " FROM segmentations WHERE image_id = ?";
  storage::SqlParams params = {image_id};
  if (version) {
    sql += " AND version = ?";
    params.push_back(*version);
  } else {
    sql += " ORDER BY version DESC LIMIT 1";
  }
  SEGHUB_ASSIGN_OR_RETURN(storage::QueryResult r, db_->Query(sql, params));
  if (r.empty()) {
    return NotFound(version ? "no segmentation version " + std::to_string(*version)
                            : std::string("the image has no segmentation yet"));
  }
  return SegFromRow(r.rows[0], true);
}

Result<std::vector<Segmentation>> ImageService::ListVersions(const std::string& user_id,
                                                             const std::string& image_id) {
  SEGHUB_RETURN_IF_ERROR(Access(user_id, image_id, Role::kViewer).status());
  SEGHUB_ASSIGN_OR_RETURN(
      storage::QueryResult r,
      db_->Query(std::string("SELECT ") + kSegColumns +
                     " FROM segmentations WHERE image_id = ? ORDER BY version DESC",
                 {image_id}));
  std::vector<Segmentation> out;
  for (const storage::Row& row : r.rows) {
    SEGHUB_ASSIGN_OR_RETURN(Segmentation s, SegFromRow(row, false));
    out.push_back(std::move(s));
  }
  return out;
}

Result<Segmentation> ImageService::SaveEdit(const std::string& user_id, const std::string& image_id,
                                            const nlohmann::json& polygons_json,
                                            int64_t base_version) {
  SEGHUB_ASSIGN_OR_RETURN(auto access, Access(user_id, image_id, Role::kEditor));
  SEGHUB_ASSIGN_OR_RETURN(std::vector<imaging::Polygon> polygons, PolygonsFromJson(polygons_json));
  std::map<int, imaging::ShapeMetrics> metrics = ComputeAllMetrics(polygons);
  int64_t externals = 0;
  for (const imaging::Polygon& p : polygons) {
    if (p.type == imaging::PolygonType::kExternal) ++externals;
  }
  Segmentation saved;
  SEGHUB_RETURN_IF_ERROR(db_->Transact([&](storage::Connection& c) -> Status {
    SEGHUB_ASSIGN_OR_RETURN(
        storage::QueryResult latest,
        c.Query(std::string("SELECT ") + kSegColumns +
                    " FROM segmentations WHERE image_id = ? ORDER BY version DESC LIMIT 1",
                {image_id}));
    int64_t current = latest.empty() ? 0 : latest.rows[0].Int(1);
    if (current != base_version) {
      return Aborted("conflict: the segmentation is at version " + std::to_string(current) +
                     ", the edit was based on version " + std::to_string(base_version));
    }
    nlohmann::json result = nlohmann::json::object();
    if (!latest.empty()) {
      SEGHUB_ASSIGN_OR_RETURN(Segmentation prev, SegFromRow(latest.rows[0], true));
      result = std::move(prev.result);
      saved.model = prev.model;
      saved.threshold = prev.threshold;
    }
    result["polygons"] = PolygonsToJson(polygons, &metrics, 0.0);
    result["image_size"] = {{"width", access.first.width}, {"height", access.first.height}};
    saved.image_id = image_id;
    saved.version = current + 1;
    saved.source = "edit";
    saved.polygon_count = externals;
    saved.result = std::move(result);
    saved.created_by = user_id;
    saved.created_at_ms = clock_->NowUnixMs();
    SEGHUB_RETURN_IF_ERROR(
        c.Execute("INSERT INTO segmentations (image_id, version, source, model, threshold, "
                  "polygon_count, result_json, created_by, created_at) "
                  "VALUES (?, ?, 'edit', ?, ?, ?, ?, ?, ?)",
                  {image_id, saved.version, saved.model, saved.threshold, externals,
                   saved.result.dump(), user_id, saved.created_at_ms})
            .status());
    return c
        .Execute("UPDATE images SET status = 'done', error = NULL, updated_at = ? WHERE id = ?",
                 {saved.created_at_ms, image_id})
        .status();
  }));
  return saved;
}

}  // namespace seghub::hub
