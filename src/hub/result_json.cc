#include "hub/result_json.h"

#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <set>

#include "imaging/exports.h"

namespace seghub::hub {
namespace {

using nlohmann::json;

// "polygon 3 (id 17)": index for polygons without a usable id, id once it is known.
std::string Where(size_t index, int id) {
  std::string s = "polygon " + std::to_string(index);
  if (id > 0) s += " (id " + std::to_string(id) + ")";
  return s;
}

Status Error(size_t index, int id, const std::string& what) {
  return InvalidArgument(Where(index, id) + ": " + what);
}

Result<int> ParseId(const json& value, size_t index, const char* key) {
  if (!value.is_number_integer()) return Error(index, 0, std::string(key) + " must be an integer");
  const int64_t id = value.get<int64_t>();
  if (id <= 0 || id > std::numeric_limits<int>::max()) {
    return Error(index, 0, std::string(key) + " must be a positive 32-bit integer");
  }
  return static_cast<int>(id);
}

// Appends the points; `total_points` is the running count over the whole list.
Status ParsePoints(const json& points, size_t index, int id, size_t* total_points,
                   std::vector<cv::Point2f>* out) {
  if (!points.is_array()) return Error(index, id, "points must be an array");
  if (points.size() < 3) return Error(index, id, "needs at least 3 points");
  *total_points += points.size();
  if (*total_points > kMaxTotalPoints) {
    return Error(index, id, "more than " + std::to_string(kMaxTotalPoints) + " points in total");
  }
  out->reserve(points.size());
  for (size_t k = 0; k < points.size(); ++k) {
    const json& p = points[k];
    const auto x = p.is_object() ? p.find("x") : json::const_iterator();
    const auto y = p.is_object() ? p.find("y") : json::const_iterator();
    if (!p.is_object() || x == p.end() || y == p.end() || !x->is_number() || !y->is_number()) {
      return Error(index, id, "point " + std::to_string(k) + " must be {\"x\": n, \"y\": n}");
    }
    const double vx = x->get<double>(), vy = y->get<double>();
    if (!std::isfinite(vx) || !std::isfinite(vy) || std::abs(vx) >= kMaxAbsCoordinate ||
        std::abs(vy) >= kMaxAbsCoordinate) {
      return Error(index, id, "point " + std::to_string(k) + " is not finite or out of range");
    }
    out->emplace_back(static_cast<float>(vx), static_cast<float>(vy));
  }
  return Status::Ok();
}

Status ParseAttributes(const json& j, size_t index, imaging::Polygon* p) {
  const auto type = j.find("type");
  if (type == j.end() || !type->is_string()) return Error(index, p->id, "type must be a string");
  if (*type == "external") {
    p->type = imaging::PolygonType::kExternal;
  } else if (*type == "internal") {
    p->type = imaging::PolygonType::kInternal;
  } else {
    return Error(index, p->id, "type must be \"external\" or \"internal\"");
  }
  const auto parent = j.find("parent_id");
  if (parent != j.end() && !parent->is_null()) {
    if (p->type == imaging::PolygonType::kExternal) {
      return Error(index, p->id, "an external polygon has no parent_id");
    }
    SEGHUB_ASSIGN_OR_RETURN(p->parent_id, ParseId(*parent, index, "parent_id"));
  } else if (p->type == imaging::PolygonType::kInternal) {
    return Error(index, p->id, "an internal polygon needs a parent_id");
  }
  const auto cls = j.find("class");
  if (cls != j.end() && !cls->is_null()) {
    if (!cls->is_string() || cls->get_ref<const std::string&>().empty() ||
        cls->get_ref<const std::string&>().size() > kMaxClassNameBytes) {
      return Error(index, p->id, "class must be a non-empty string of at most 256 bytes");
    }
    p->class_name = cls->get<std::string>();
  }
  const auto confidence = j.find("confidence");
  if (confidence != j.end() && !confidence->is_null()) {
    const double c = confidence->is_number() ? confidence->get<double>() : -1.0;
    if (!(c >= 0.0 && c <= 1.0)) return Error(index, p->id, "confidence must be in [0, 1]");
    p->confidence = c;
  }
  return Status::Ok();
}

Result<imaging::Polygon> ParsePolygon(const json& j, size_t index, size_t* total_points) {
  if (!j.is_object()) return Error(index, 0, "must be an object");
  imaging::Polygon p;
  const auto id = j.find("id");
  if (id == j.end()) return Error(index, 0, "id is missing");
  SEGHUB_ASSIGN_OR_RETURN(p.id, ParseId(*id, index, "id"));
  SEGHUB_RETURN_IF_ERROR(ParseAttributes(j, index, &p));
  const auto points = j.find("points");
  if (points == j.end()) return Error(index, p.id, "points are missing");
  SEGHUB_RETURN_IF_ERROR(ParsePoints(*points, index, p.id, total_points, &p.points));
  // The client's area is not trusted: the ring's own shoelace area, as polygons.cc computes it.
  p.area = std::abs(cv::contourArea(p.points));
  return p;
}

Status CheckIdsAndParents(const std::vector<imaging::Polygon>& polygons) {
  std::map<int, imaging::PolygonType> types;
  for (size_t i = 0; i < polygons.size(); ++i) {
    if (!types.emplace(polygons[i].id, polygons[i].type).second) {
      return Error(i, polygons[i].id, "duplicate id");
    }
  }
  for (size_t i = 0; i < polygons.size(); ++i) {
    const imaging::Polygon& p = polygons[i];
    if (!p.parent_id) continue;
    const auto parent = types.find(*p.parent_id);
    if (parent == types.end() || parent->second != imaging::PolygonType::kExternal) {
      return Error(i, p.id,
                   "parent_id " + std::to_string(*p.parent_id) + " is not an external polygon");
    }
  }
  return Status::Ok();
}

Result<std::vector<imaging::Polygon>> ParseList(const json& polygons) {
  if (!polygons.is_array()) return InvalidArgument("polygons must be an array");
  if (polygons.size() > kMaxPolygons) {
    return InvalidArgument("more than " + std::to_string(kMaxPolygons) + " polygons");
  }
  std::vector<imaging::Polygon> out;
  out.reserve(polygons.size());
  size_t total_points = 0;
  for (size_t i = 0; i < polygons.size(); ++i) {
    SEGHUB_ASSIGN_OR_RETURN(imaging::Polygon p, ParsePolygon(polygons[i], i, &total_points));
    out.push_back(std::move(p));
  }
  SEGHUB_RETURN_IF_ERROR(CheckIdsAndParents(out));
  return out;
}

}  // namespace

Result<std::vector<imaging::Polygon>> PolygonsFromJson(const nlohmann::json& polygons) {
  // Every access is type-checked first; the catch is a backstop so a library exception can
  // never escape into a request thread.
  try {
    return ParseList(polygons);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("invalid polygons: ") + e.what());
  }
}

nlohmann::json PolygonsToJson(const std::vector<imaging::Polygon>& polygons,
                              const std::map<int, imaging::ShapeMetrics>* metrics,
                              double um_per_px) {
  return imaging::HubPolygonsJson(polygons, metrics, um_per_px);
}

std::map<int, imaging::ShapeMetrics> ComputeAllMetrics(
    const std::vector<imaging::Polygon>& polygons, double um_per_px) {
  std::map<int, imaging::ShapeMetrics> out;
  for (const imaging::PolygonGroup& g : imaging::GroupHoles(polygons)) {
    auto m = imaging::ComputeShapeMetrics(polygons, g, um_per_px > 0 ? um_per_px : 1.0);
    if (m.ok()) out[polygons[g.external].id] = *m;
  }
  return out;
}

Result<StoredResult> StoredResultFromJson(const nlohmann::json& body) {
  try {
    if (!body.is_object()) return InvalidArgument("result must be a JSON object");
    StoredResult r;
    const json& size = body.value("image_size", json::object());
    if (!size.is_object() || !size.value("width", json()).is_number_integer() ||
        !size.value("height", json()).is_number_integer() || size["width"].get<int64_t>() <= 0 ||
        size["height"].get<int64_t>() <= 0 || size["width"].get<int64_t>() > 1'000'000 ||
        size["height"].get<int64_t>() > 1'000'000) {
      return InvalidArgument("image_size must be {width, height} with positive integers");
    }
    r.width = size["width"].get<int>();
    r.height = size["height"].get<int>();
    if (body.contains("model_used") && body["model_used"].is_string()) {
      r.model = body["model_used"].get<std::string>();
    }
    if (body.contains("threshold_used") && body["threshold_used"].is_number()) {
      r.threshold = body["threshold_used"].get<double>();
    }
    SEGHUB_ASSIGN_OR_RETURN(r.polygons, ParseList(body.value("polygons", json::array())));
    return r;
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("invalid result: ") + e.what());
  }
}

nlohmann::json StoredResultToJson(const StoredResult& result, double um_per_px) {
  const auto metrics = ComputeAllMetrics(result.polygons, um_per_px);
  json body = {{"success", true},
               {"model_used", result.model},
               {"threshold_used", result.threshold},
               {"image_size", {{"width", result.width}, {"height", result.height}}},
               {"polygons", PolygonsToJson(result.polygons, &metrics, um_per_px)}};
  if (um_per_px > 0) body["um_per_px"] = um_per_px;
  return body;
}

}  // namespace seghub::hub
