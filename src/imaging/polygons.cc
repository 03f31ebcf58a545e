#include "imaging/polygons.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/imgproc.hpp>

namespace seghub::imaging {
namespace {

using Contour = std::vector<cv::Point>;

struct ContourTree {
  std::vector<Contour> contours;
  std::vector<cv::Vec4i> hierarchy;  // [next, previous, first child, parent]
  std::vector<int> depth;
};

// What every emitted polygon needs besides its contours.
struct EmitContext {
  const PolygonOptions& options;
  const cv::Mat& probabilities;  // full image, may be empty
  const cv::Mat& foreground;     // CV_8UC1 mask, origin at `foreground_origin`
  cv::Point foreground_origin;
};

ContourTree FindContourTree(const cv::Mat& mask, cv::Point origin, bool holes) {
  // findContours treats the outermost pixel row as background; a zero frame keeps objects that
  // touch the image border intact.
  cv::Mat padded;
  cv::copyMakeBorder(mask, padded, 1, 1, 1, 1, cv::BORDER_CONSTANT, cv::Scalar(0));
  ContourTree t;
  cv::findContours(padded, t.contours, t.hierarchy, holes ? cv::RETR_TREE : cv::RETR_EXTERNAL,
                   cv::CHAIN_APPROX_SIMPLE, origin - cv::Point(1, 1));
  t.depth.assign(t.contours.size(), 0);
  for (size_t i = 0; i < t.contours.size(); ++i) {
    for (int p = t.hierarchy[i][3]; p >= 0; p = t.hierarchy[p][3]) ++t.depth[i];
  }
  return t;
}

// Mean probability over the object's pixels: the filled outer contour, restricted to the
// foreground (so holes drop out) and without objects nested inside its holes.
double RegionMean(const ContourTree& t, int ext, const EmitContext& ctx) {
  if (ctx.probabilities.empty()) return 1.0;
  const cv::Rect rect = cv::boundingRect(t.contours[ext]);
  cv::Mat region = cv::Mat::zeros(rect.size(), CV_8UC1);
  cv::drawContours(region, t.contours, ext, cv::Scalar(255), cv::FILLED, cv::LINE_8, cv::noArray(),
                   0, -rect.tl());
  if (ctx.options.detect_holes) {
    const cv::Rect fg_rect = rect - ctx.foreground_origin;
    region &= ctx.foreground(fg_rect);
    for (int hole = t.hierarchy[ext][2]; hole >= 0; hole = t.hierarchy[hole][0]) {
      for (int inner = t.hierarchy[hole][2]; inner >= 0; inner = t.hierarchy[inner][0]) {
        cv::drawContours(region, t.contours, inner, cv::Scalar(0), cv::FILLED, cv::LINE_8,
                         cv::noArray(), 0, -rect.tl());
      }
    }
  }
  if (cv::countNonZero(region) == 0) return 0.0;
  return cv::mean(ctx.probabilities(rect), region)[0];
}

// Applies the size filter and optional simplification; nullopt when the ring is dropped.
std::optional<Polygon> MakeRing(const Contour& contour, PolygonType type,
                                const PolygonOptions& options) {
  if (contour.size() < 3 || cv::contourArea(contour) < options.min_area) return std::nullopt;
  Contour points = contour;
  if (options.simplify_epsilon > 0.0) {
    cv::approxPolyDP(contour, points, options.simplify_epsilon, /*closed=*/true);
    if (points.size() < 3) return std::nullopt;
  }
  Polygon p;
  p.type = type;
  p.class_name = options.class_name;
  p.points.assign(points.begin(), points.end());
  p.area = cv::contourArea(points);
  return p;
}

void EmitExternal(const ContourTree& t, int ext, const EmitContext& ctx,
                  std::vector<Polygon>* out) {
  std::optional<Polygon> outer = MakeRing(t.contours[ext], PolygonType::kExternal, ctx.options);
  if (!outer) return;
  outer->id = static_cast<int>(out->size()) + 1;
  outer->confidence = RegionMean(t, ext, ctx);
  const int parent_id = outer->id;
  const double confidence = outer->confidence;
  out->push_back(std::move(*outer));
  if (!ctx.options.detect_holes) return;
  for (int hole = t.hierarchy[ext][2]; hole >= 0; hole = t.hierarchy[hole][0]) {
    std::optional<Polygon> ring = MakeRing(t.contours[hole], PolygonType::kInternal, ctx.options);
    if (!ring) continue;
    ring->id = static_cast<int>(out->size()) + 1;
    ring->parent_id = parent_id;
    ring->confidence = confidence;
    out->push_back(std::move(*ring));
  }
}

Status ValidateProbabilities(const cv::Mat& prob, cv::Size size) {
  if (prob.empty()) return Status::Ok();
  if (prob.type() != CV_32FC1 || prob.size() != size) {
    return InvalidArgument("probabilities must be CV_32FC1 of the mask's size");
  }
  return Status::Ok();
}

// Per-label bounding boxes in one pass (label images may hold thousands of instances). The map
// is consulted once per run of one label along a row, not once per pixel.
template <typename T>
std::map<int, cv::Rect> LabelBoxes(const cv::Mat& labels) {
  std::map<int, cv::Rect> boxes;
  for (int y = 0; y < labels.rows; ++y) {
    const T* row = labels.ptr<T>(y);
    for (int x = 0; x < labels.cols;) {
      const T label = row[x];
      const int start = x;
      while (x < labels.cols && row[x] == label) ++x;
      if (label <= 0) continue;
      const cv::Rect run(start, y, x - start, 1);
      auto [it, fresh] = boxes.try_emplace(static_cast<int>(label), run);
      if (!fresh) it->second |= run;
    }
  }
  return boxes;
}

}  // namespace

Result<std::vector<Polygon>> PolygonsFromMask(const cv::Mat& mask, const cv::Mat& probabilities,
                                              const PolygonOptions& options) {
  if (mask.empty() || mask.type() != CV_8UC1) return InvalidArgument("mask must be CV_8UC1");
  SEGHUB_RETURN_IF_ERROR(ValidateProbabilities(probabilities, mask.size()));
  std::vector<Polygon> out;
  try {
    const cv::Mat foreground = mask != 0;
    const ContourTree t = FindContourTree(foreground, {0, 0}, options.detect_holes);
    const EmitContext ctx{options, probabilities, foreground, {0, 0}};
    // Reading order (top to bottom, then left to right) rather than findContours' internal order,
    // so ids are stable and predictable.
    std::vector<std::pair<cv::Point, int>> externals;
    for (size_t i = 0; i < t.contours.size(); ++i) {
      if (t.depth[i] % 2 != 0) continue;
      const cv::Rect box = cv::boundingRect(t.contours[i]);
      externals.push_back({{box.x, box.y}, static_cast<int>(i)});
    }
    std::sort(externals.begin(), externals.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.first.y, a.first.x) < std::make_pair(b.first.y, b.first.x);
    });
    for (const auto& [corner, i] : externals) EmitExternal(t, i, ctx, &out);
  } catch (const cv::Exception& e) {
    return Internal(std::string("contour extraction failed: ") + e.what());
  }
  return out;
}

Result<std::vector<Polygon>> PolygonsFromProbabilities(const cv::Mat& probabilities,
                                                       const PolygonOptions& options) {
  if (probabilities.empty() || probabilities.type() != CV_32FC1) {
    return InvalidArgument("probabilities must be a non-empty CV_32FC1 map");
  }
  const cv::Mat mask = probabilities > options.threshold;
  return PolygonsFromMask(mask, probabilities, options);
}

Result<std::vector<Polygon>> PolygonsFromLabels(const cv::Mat& labels, const cv::Mat& probabilities,
                                                const PolygonOptions& options) {
  if (labels.empty() || (labels.type() != CV_32SC1 && labels.type() != CV_16UC1)) {
    return InvalidArgument("labels must be CV_32SC1 or CV_16UC1");
  }
  SEGHUB_RETURN_IF_ERROR(ValidateProbabilities(probabilities, labels.size()));
  std::vector<Polygon> out;
  try {
    const auto boxes =
        labels.type() == CV_32SC1 ? LabelBoxes<int32_t>(labels) : LabelBoxes<uint16_t>(labels);
    cv::Mat labels32 = labels;
    if (labels.type() != CV_32SC1) labels.convertTo(labels32, CV_32S);
    for (const auto& [label, box] : boxes) {
      const cv::Mat foreground = labels32(box) == label;
      const ContourTree t = FindContourTree(foreground, box.tl(), options.detect_holes);
      int largest = -1;
      double largest_area = -1.0;
      for (size_t i = 0; i < t.contours.size(); ++i) {
        if (t.depth[i] != 0) continue;
        const double a = cv::contourArea(t.contours[i]);
        if (a > largest_area) {
          largest_area = a;
          largest = static_cast<int>(i);
        }
      }
      if (largest < 0) continue;
      const EmitContext ctx{options, probabilities, foreground, box.tl()};
      EmitExternal(t, largest, ctx, &out);
    }
  } catch (const cv::Exception& e) {
    return Internal(std::string("contour extraction failed: ") + e.what());
  }
  return out;
}

std::vector<PolygonGroup> GroupHoles(const std::vector<Polygon>& polygons) {
  std::vector<PolygonGroup> groups;
  std::map<int, size_t> group_of_id;
  for (size_t i = 0; i < polygons.size(); ++i) {
    if (polygons[i].type != PolygonType::kExternal) continue;
    group_of_id[polygons[i].id] = groups.size();
    groups.push_back({i, {}});
  }
  for (size_t i = 0; i < polygons.size(); ++i) {
    const Polygon& p = polygons[i];
    if (p.type != PolygonType::kInternal || !p.parent_id) continue;
    const auto it = group_of_id.find(*p.parent_id);
    if (it != group_of_id.end()) groups[it->second].holes.push_back(i);
  }
  return groups;
}

std::string_view PolygonTypeName(PolygonType type) {
  return type == PolygonType::kExternal ? "external" : "internal";
}

nlohmann::json ToJson(const Polygon& polygon) {
  nlohmann::json points = nlohmann::json::array();
  for (const cv::Point2f& p : polygon.points) {
    // Integral coordinates print as integers, as the Hub's (numpy int32) contours do.
    const auto number = [](float v) -> nlohmann::json {
      if (v == std::floor(v) && std::abs(v) < 1e9f) return static_cast<int64_t>(v);
      return v;
    };
    points.push_back({{"x", number(p.x)}, {"y", number(p.y)}});
  }
  nlohmann::json j = {{"id", polygon.id},
                      {"points", std::move(points)},
                      {"type", PolygonTypeName(polygon.type)},
                      {"class", polygon.class_name},
                      {"confidence", polygon.confidence},
                      {"area", polygon.area}};
  if (polygon.parent_id) j["parent_id"] = *polygon.parent_id;
  return j;
}

nlohmann::json ToJson(const std::vector<Polygon>& polygons) {
  nlohmann::json j = nlohmann::json::array();
  for (const Polygon& p : polygons) j.push_back(ToJson(p));
  return j;
}

}  // namespace seghub::imaging
