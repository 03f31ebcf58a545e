#include "imaging/evaluation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <unordered_map>

namespace seghub::imaging {
namespace {

// Overlap of two instance images: object areas (dense indices) and every overlapping pair.
struct OverlapPair {
  int true_index = 0;
  int predicted_index = 0;
  int64_t intersection = 0;
  double iou = 0.0;
};

struct Overlaps {
  std::vector<int64_t> true_area;
  std::vector<int64_t> predicted_area;
  std::vector<OverlapPair> pairs;
  int64_t foreground_intersection = 0;
};

double SafeRatio(double num, double den) { return den > 0 ? num / den : 1.0; }

Status CheckLabels(const cv::Mat& labels, const char* what) {
  if (labels.empty()) return InvalidArgument(std::string(what) + " label image is empty");
  if (labels.channels() != 1) {
    return InvalidArgument(std::string(what) + " label image must have one channel");
  }
  const int depth = labels.depth();
  if (depth != CV_8U && depth != CV_16U && depth != CV_32S) {
    return InvalidArgument(std::string(what) + " label image must be CV_8U, CV_16U or CV_32S");
  }
  return Status::Ok();
}

// Dense index of each label value in order of first appearance (raster order), -1 for 0.
class LabelIndexer {
 public:
  int Index(int label, std::vector<int64_t>* areas) {
    if (label == 0) return -1;
    auto [it, inserted] = index_.try_emplace(label, static_cast<int>(areas->size()));
    if (inserted) areas->push_back(0);
    ++(*areas)[it->second];
    return it->second;
  }

 private:
  std::unordered_map<int, int> index_;
};

Overlaps ComputeOverlaps(const cv::Mat& predicted, const cv::Mat& ground_truth) {
  cv::Mat pred32, true32;
  predicted.convertTo(pred32, CV_32S);
  ground_truth.convertTo(true32, CV_32S);
  Overlaps out;
  LabelIndexer pred_indexer, true_indexer;
  // Key = true index << 32 | predicted index; the map stays small (only touching pairs).
  std::unordered_map<uint64_t, int64_t> intersections;
  for (int y = 0; y < pred32.rows; ++y) {
    const int* p = pred32.ptr<int>(y);
    const int* t = true32.ptr<int>(y);
    for (int x = 0; x < pred32.cols; ++x) {
      const int pi = pred_indexer.Index(p[x], &out.predicted_area);
      const int ti = true_indexer.Index(t[x], &out.true_area);
      if (pi < 0 || ti < 0) continue;
      ++out.foreground_intersection;
      ++intersections[(static_cast<uint64_t>(ti) << 32) | static_cast<uint32_t>(pi)];
    }
  }
  out.pairs.reserve(intersections.size());
  for (const auto& [key, inter] : intersections) {
    OverlapPair pair;
    pair.true_index = static_cast<int>(key >> 32);
    pair.predicted_index = static_cast<int>(key & 0xffffffffu);
    pair.intersection = inter;
    const int64_t uni =
        out.true_area[pair.true_index] + out.predicted_area[pair.predicted_index] - inter;
    pair.iou = static_cast<double>(inter) / static_cast<double>(uni);
    out.pairs.push_back(pair);
  }
  // Deterministic order regardless of hash-map iteration: IoU descending, then indices.
  std::sort(out.pairs.begin(), out.pairs.end(), [](const OverlapPair& a, const OverlapPair& b) {
    if (a.iou != b.iou) return a.iou > b.iou;
    if (a.true_index != b.true_index) return a.true_index < b.true_index;
    return a.predicted_index < b.predicted_index;
  });
  return out;
}

struct MatchResult {
  int64_t tp = 0;
  double matched_iou_sum = 0.0;
};

// Optimal for threshold >= 0.5 (see the header); `pairs` sorted by IoU descending.
MatchResult GreedyMatch(const Overlaps& overlaps, double threshold) {
  std::vector<char> true_used(overlaps.true_area.size(), 0);
  std::vector<char> pred_used(overlaps.predicted_area.size(), 0);
  MatchResult result;
  for (const OverlapPair& pair : overlaps.pairs) {
    if (pair.iou < threshold) break;
    if (true_used[pair.true_index] || pred_used[pair.predicted_index]) continue;
    true_used[pair.true_index] = pred_used[pair.predicted_index] = 1;
    ++result.tp;
    result.matched_iou_sum += pair.iou;
  }
  return result;
}

// Minimum-cost assignment of every row to a distinct column (rows <= cols), Hungarian method
// with potentials, O(rows² · cols). `cost` is row-major rows × cols. Returns column per row.
std::vector<int> SolveAssignment(const std::vector<double>& cost, int rows, int cols) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> u(rows + 1, 0.0), v(cols + 1, 0.0);
  std::vector<int> row_of_col(cols + 1, 0), way(cols + 1, 0);
  for (int i = 1; i <= rows; ++i) {
    row_of_col[0] = i;
    int col = 0;
    std::vector<double> min_reduced(cols + 1, kInf);
    std::vector<char> used(cols + 1, 0);
    do {
      used[col] = 1;
      const int row = row_of_col[col];
      double delta = kInf;
      int next_col = 0;
      for (int j = 1; j <= cols; ++j) {
        if (used[j]) continue;
        const double reduced = cost[(row - 1) * cols + (j - 1)] - u[row] - v[j];
        if (reduced < min_reduced[j]) {
          min_reduced[j] = reduced;
          way[j] = col;
        }
        if (min_reduced[j] < delta) {
          delta = min_reduced[j];
          next_col = j;
        }
      }
      for (int j = 0; j <= cols; ++j) {
        if (used[j]) {
          u[row_of_col[j]] += delta;
          v[j] -= delta;
        } else {
          min_reduced[j] -= delta;
        }
      }
      col = next_col;
    } while (row_of_col[col] != 0);
    do {
      const int prev = way[col];
      row_of_col[col] = row_of_col[prev];
      col = prev;
    } while (col != 0);
  }
  std::vector<int> col_of_row(rows, -1);
  for (int j = 1; j <= cols; ++j) {
    if (row_of_col[j] > 0) col_of_row[row_of_col[j] - 1] = j - 1;
  }
  return col_of_row;
}

// Cellpose's matching for thresholds below 0.5. Only objects that overlap something can be
// matched, so the assignment runs on those alone.
MatchResult AssignmentMatch(const Overlaps& overlaps, double threshold) {
  std::vector<int> true_ids, pred_ids;
  std::unordered_map<int, int> true_row, pred_col;
  for (const OverlapPair& pair : overlaps.pairs) {
    if (true_row.try_emplace(pair.true_index, static_cast<int>(true_ids.size())).second) {
      true_ids.push_back(pair.true_index);
    }
    if (pred_col.try_emplace(pair.predicted_index, static_cast<int>(pred_ids.size())).second) {
      pred_ids.push_back(pair.predicted_index);
    }
  }
  MatchResult result;
  if (true_ids.empty()) return result;
  // Rows must be the smaller side.
  const bool transpose = true_ids.size() > pred_ids.size();
  const int rows = static_cast<int>(transpose ? pred_ids.size() : true_ids.size());
  const int cols = static_cast<int>(transpose ? true_ids.size() : pred_ids.size());
  const double tie_break = 1.0 / (2.0 * rows);
  std::vector<double> cost(static_cast<size_t>(rows) * cols, 0.0);
  std::vector<double> iou(cost.size(), 0.0);
  for (const OverlapPair& pair : overlaps.pairs) {
    int r = true_row[pair.true_index];
    int c = pred_col[pair.predicted_index];
    if (transpose) std::swap(r, c);
    const size_t k = static_cast<size_t>(r) * cols + c;
    iou[k] = pair.iou;
    cost[k] = -(pair.iou >= threshold ? 1.0 : 0.0) - pair.iou * tie_break;
  }
  const std::vector<int> assignment = SolveAssignment(cost, rows, cols);
  for (int r = 0; r < rows; ++r) {
    if (assignment[r] < 0) continue;
    const double value = iou[static_cast<size_t>(r) * cols + assignment[r]];
    if (value >= threshold && value > 0) {
      ++result.tp;
      result.matched_iou_sum += value;
    }
  }
  return result;
}

// Kumar et al.'s AJI on the precomputed overlaps (see the header for the reading used).
void ComputeAji(const Overlaps& overlaps, ImageEvaluation* eval) {
  const size_t num_true = overlaps.true_area.size();
  std::vector<const OverlapPair*> best(num_true, nullptr);
  for (const OverlapPair& pair : overlaps.pairs) {  // sorted by IoU: first seen is best
    if (best[pair.true_index] == nullptr) best[pair.true_index] = &pair;
  }
  std::vector<char> pred_used(overlaps.predicted_area.size(), 0);
  int64_t c = 0, u = 0;
  for (size_t i = 0; i < num_true; ++i) {
    if (best[i] == nullptr) {
      u += overlaps.true_area[i];
      continue;
    }
    const int p = best[i]->predicted_index;
    c += best[i]->intersection;
    u += overlaps.true_area[i] + overlaps.predicted_area[p] - best[i]->intersection;
    pred_used[p] = 1;
  }
  for (size_t p = 0; p < pred_used.size(); ++p) {
    if (!pred_used[p]) u += overlaps.predicted_area[p];
  }
  eval->aji_intersection = c;
  eval->aji_union = u;
  eval->aji = SafeRatio(static_cast<double>(c), static_cast<double>(u));
}

// The majority-overlap error categories of ErrorCounts.
ErrorCounts CountErrors(const Overlaps& overlaps) {
  const size_t num_true = overlaps.true_area.size(), num_pred = overlaps.predicted_area.size();
  std::vector<int64_t> true_covered(num_true, 0), pred_covered(num_pred, 0);
  std::vector<int> majorities_held(num_pred, 0), predictions_held(num_true, 0);
  std::vector<int> home(num_true, -1);  // the prediction holding a true object's majority
  for (const OverlapPair& pair : overlaps.pairs) {
    true_covered[pair.true_index] += pair.intersection;
    pred_covered[pair.predicted_index] += pair.intersection;
    if (2 * pair.intersection > overlaps.true_area[pair.true_index]) {
      home[pair.true_index] = pair.predicted_index;
      ++majorities_held[pair.predicted_index];
    }
    if (2 * pair.intersection > overlaps.predicted_area[pair.predicted_index]) {
      ++predictions_held[pair.true_index];
    }
  }
  ErrorCounts e;
  for (size_t i = 0; i < num_true; ++i) {
    if (home[i] >= 0 && majorities_held[home[i]] >= 2) ++e.merged;
    if (predictions_held[i] >= 2) ++e.split;
    if (2 * true_covered[i] <= overlaps.true_area[i]) ++e.missed;
  }
  for (size_t p = 0; p < num_pred; ++p) {
    if (2 * pred_covered[p] <= overlaps.predicted_area[p]) ++e.spurious;
  }
  return e;
}

void AddErrors(const ErrorCounts& from, ErrorCounts* to) {
  to->merged += from.merged;
  to->split += from.split;
  to->missed += from.missed;
  to->spurious += from.spurious;
}

nlohmann::json ErrorsToJson(const ErrorCounts& e) {
  return {{"merged", e.merged}, {"split", e.split}, {"missed", e.missed}, {"spurious", e.spurious}};
}

}  // namespace

double MatchCounts::AveragePrecision() const {
  return SafeRatio(static_cast<double>(tp), static_cast<double>(tp + fp + fn));
}
double MatchCounts::Precision() const {
  return SafeRatio(static_cast<double>(tp), static_cast<double>(tp + fp));
}
double MatchCounts::Recall() const {
  return SafeRatio(static_cast<double>(tp), static_cast<double>(tp + fn));
}

Result<ImageEvaluation> EvaluateInstances(const cv::Mat& predicted, const cv::Mat& ground_truth,
                                          const EvaluationOptions& options) {
  SEGHUB_RETURN_IF_ERROR(CheckLabels(predicted, "predicted"));
  SEGHUB_RETURN_IF_ERROR(CheckLabels(ground_truth, "ground-truth"));
  if (predicted.size() != ground_truth.size()) {
    return InvalidArgument("predicted and ground-truth label images differ in size");
  }
  for (double t : options.iou_thresholds) {
    if (!(t > 0.0 && t <= 1.0)) return InvalidArgument("IoU thresholds must be in (0, 1]");
  }
  const Overlaps overlaps = ComputeOverlaps(predicted, ground_truth);
  ImageEvaluation eval;
  eval.num_true = static_cast<int>(overlaps.true_area.size());
  eval.num_predicted = static_cast<int>(overlaps.predicted_area.size());
  eval.foreground_intersection = overlaps.foreground_intersection;
  eval.foreground_true = cv::countNonZero(ground_truth);
  eval.foreground_predicted = cv::countNonZero(predicted);
  const double inter = static_cast<double>(eval.foreground_intersection);
  const double sum = static_cast<double>(eval.foreground_true + eval.foreground_predicted);
  eval.dice = SafeRatio(2.0 * inter, sum);
  eval.iou = SafeRatio(inter, sum - inter);
  for (size_t k = 0; k < options.iou_thresholds.size(); ++k) {
    const double t = options.iou_thresholds[k];
    const MatchResult m = t >= 0.5 ? GreedyMatch(overlaps, t) : AssignmentMatch(overlaps, t);
    MatchCounts counts;
    counts.threshold = t;
    counts.tp = m.tp;
    counts.fp = eval.num_predicted - m.tp;
    counts.fn = eval.num_true - m.tp;
    eval.matches.push_back(counts);
    if (k == 0) eval.mean_matched_iou = m.tp > 0 ? m.matched_iou_sum / m.tp : 0.0;
  }
  ComputeAji(overlaps, &eval);
  eval.errors = CountErrors(overlaps);
  return eval;
}

Result<DatasetEvaluation> AggregateEvaluations(const std::vector<ImageEvaluation>& images) {
  DatasetEvaluation out;
  out.num_images = static_cast<int>(images.size());
  if (images.empty()) return out;
  const size_t num_thresholds = images.front().matches.size();
  out.matches = images.front().matches;
  for (MatchCounts& m : out.matches) m.tp = m.fp = m.fn = 0;
  out.mean_average_precision.assign(num_thresholds, 0.0);
  int64_t fg_inter = 0, fg_sum = 0, aji_c = 0, aji_u = 0;
  for (const ImageEvaluation& image : images) {
    if (image.matches.size() != num_thresholds) {
      return InvalidArgument("images were evaluated with different IoU thresholds");
    }
    for (size_t k = 0; k < num_thresholds; ++k) {
      if (image.matches[k].threshold != out.matches[k].threshold) {
        return InvalidArgument("images were evaluated with different IoU thresholds");
      }
      out.matches[k].tp += image.matches[k].tp;
      out.matches[k].fp += image.matches[k].fp;
      out.matches[k].fn += image.matches[k].fn;
      out.mean_average_precision[k] += image.matches[k].AveragePrecision() / out.num_images;
    }
    out.mean_dice += image.dice / out.num_images;
    out.mean_iou += image.iou / out.num_images;
    out.mean_aji += image.aji / out.num_images;
    fg_inter += image.foreground_intersection;
    fg_sum += image.foreground_true + image.foreground_predicted;
    aji_c += image.aji_intersection;
    aji_u += image.aji_union;
    AddErrors(image.errors, &out.errors);
  }
  out.pooled_dice = SafeRatio(2.0 * fg_inter, static_cast<double>(fg_sum));
  out.pooled_iou = SafeRatio(static_cast<double>(fg_inter), static_cast<double>(fg_sum - fg_inter));
  out.pooled_aji = SafeRatio(static_cast<double>(aji_c), static_cast<double>(aji_u));
  return out;
}

namespace {

std::string ThresholdKey(double t) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", t);
  return buffer;
}

nlohmann::json CountsToJson(const std::vector<MatchCounts>& matches) {
  nlohmann::json ap = nlohmann::json::object();
  nlohmann::json counts = nlohmann::json::array();
  for (const MatchCounts& m : matches) {
    ap[ThresholdKey(m.threshold)] = m.AveragePrecision();
    counts.push_back({{"threshold", m.threshold},
                      {"tp", m.tp},
                      {"fp", m.fp},
                      {"fn", m.fn},
                      {"precision", m.Precision()},
                      {"recall", m.Recall()},
                      {"ap", m.AveragePrecision()}});
  }
  return {{"ap", ap}, {"counts", counts}};
}

}  // namespace

nlohmann::json ToJson(const ImageEvaluation& e) {
  nlohmann::json j = CountsToJson(e.matches);
  j["num_true"] = e.num_true;
  j["num_predicted"] = e.num_predicted;
  j["dice"] = e.dice;
  j["iou"] = e.iou;
  j["aji"] = e.aji;
  j["mean_matched_iou"] = e.mean_matched_iou;
  j["errors"] = ErrorsToJson(e.errors);
  return j;
}

nlohmann::json ToJson(const DatasetEvaluation& e) {
  nlohmann::json j = CountsToJson(e.matches);
  nlohmann::json mean_ap = nlohmann::json::object();
  for (size_t k = 0; k < e.matches.size() && k < e.mean_average_precision.size(); ++k) {
    mean_ap[ThresholdKey(e.matches[k].threshold)] = e.mean_average_precision[k];
  }
  j["num_images"] = e.num_images;
  j["mean_ap"] = mean_ap;
  j["mean_dice"] = e.mean_dice;
  j["mean_iou"] = e.mean_iou;
  j["mean_aji"] = e.mean_aji;
  j["pooled_dice"] = e.pooled_dice;
  j["pooled_iou"] = e.pooled_iou;
  j["pooled_aji"] = e.pooled_aji;
  j["errors"] = ErrorsToJson(e.errors);
  return j;
}

}  // namespace seghub::imaging
