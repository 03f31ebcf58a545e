// Segmentation accuracy against ground truth: foreground Dice/IoU, instance average precision at
// IoU thresholds (Cellpose / StarDist definition) and the aggregated Jaccard index, per image and
// over a dataset, plus a reader for the ground-truth formats of ../shared/data/nuclei.
//
// Average precision ("accuracy" in StarDist) at threshold t is TP / (TP + FP + FN), where TP is
// the number of pairs of a one-to-one matching between predicted and true instances whose
// IoU >= t (both libraries use >=). For t >= 0.5 a greedy matching on descending IoU is optimal:
// an object can have IoU > 0.5 with at most one disjoint partner, and at exactly 0.5 the pairs
// form stars, where any choice gives the same count. For t < 0.5 pairs may conflict, so the
// matching is Cellpose's: a linear assignment maximising first the number of pairs with
// IoU >= t and then their summed IoU (cost -(IoU >= t) - IoU / (2·min(n_true, n_pred))).
//
// AJI (Kumar et al., IEEE TMI 2017): every true object G is paired with the prediction S of
// highest IoU (a prediction may be reused); C += |G ∩ S|, U += |G ∪ S|; true objects that touch
// no prediction add |G| to U; predictions never chosen add |S| to U. AJI = C / U. This is the
// common reading (HoVer-Net's get_fast_aji) of the paper's "argmax over all S".
//
// Empty images: when both label images are empty every score is 1 (nothing was wrong);
// StarDist reports 0 and Cellpose NaN there. Dataset AP pools counts, so empty images do not
// move it.
// Pure functions; thread-safe.
#ifndef SEGHUB_IMAGING_EVALUATION_H_
#define SEGHUB_IMAGING_EVALUATION_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace seghub::imaging {

struct MatchCounts {
  double threshold = 0.5;
  int64_t tp = 0;
  int64_t fp = 0;  // unmatched predictions
  int64_t fn = 0;  // unmatched true objects
  // TP / (TP + FP + FN); 1 when the denominator is 0 (both empty).
  double AveragePrecision() const;
  double Precision() const;  // TP / (TP + FP); 1 when there are no predictions and no objects
  double Recall() const;     // TP / (TP + FN); likewise
};

// Where instance errors come from, by majority overlap (more than half of an object's pixels):
// - merged: true objects whose majority lies in a prediction that holds the majority of another
//   true object too (touching objects that came out as one);
// - split: true objects that hold the majority of two or more predictions;
// - missed: true objects with at most half their pixels in any prediction;
// - spurious: predictions with at most half their pixels on true objects.
// Diagnostic only: the categories are not the AP's FN/FP, and an object may be in none of them
// (matched, or a boundary too far off).
struct ErrorCounts {
  int64_t merged = 0;
  int64_t split = 0;
  int64_t missed = 0;
  int64_t spurious = 0;
};

struct ImageEvaluation {
  int num_true = 0;
  int num_predicted = 0;
  // Foreground (label > 0) pixel counts, kept so datasets can be pooled as well as averaged.
  int64_t foreground_intersection = 0;
  int64_t foreground_true = 0;
  int64_t foreground_predicted = 0;
  double dice = 1.0;                 // 2|P ∩ G| / (|P| + |G|)
  double iou = 1.0;                  // |P ∩ G| / |P ∪ G|
  std::vector<MatchCounts> matches;  // one per requested threshold, same order
  int64_t aji_intersection = 0;
  int64_t aji_union = 0;
  double aji = 1.0;
  // Mean IoU of the pairs matched at the first threshold (StarDist's mean_matched_score).
  double mean_matched_iou = 0.0;
  ErrorCounts errors;
};

struct EvaluationOptions {
  std::vector<double> iou_thresholds = {0.5, 0.75, 0.9};
};

// `predicted` and `ground_truth`: same size, single channel, CV_32S, CV_16U or CV_8U instance
// labels (0 = background; label values need not be consecutive).
Result<ImageEvaluation> EvaluateInstances(const cv::Mat& predicted, const cv::Mat& ground_truth,
                                          const EvaluationOptions& options = {});

struct DatasetEvaluation {
  int num_images = 0;
  std::vector<MatchCounts> matches;            // TP/FP/FN summed over images; AP from the sums
  std::vector<double> mean_average_precision;  // mean of the per-image APs, same order
  double mean_dice = 0.0;
  double mean_iou = 0.0;
  double mean_aji = 0.0;
  double pooled_dice = 1.0;  // from summed pixel counts
  double pooled_iou = 1.0;
  double pooled_aji = 1.0;  // sum C / sum U
  ErrorCounts errors;       // summed over images
};

// Every element of `images` must have been evaluated with the same thresholds (error otherwise).
// An empty list gives num_images = 0 and no thresholds.
Result<DatasetEvaluation> AggregateEvaluations(const std::vector<ImageEvaluation>& images);

// JSON for reports: {"dice":…, "iou":…, "aji":…, "ap":{"0.5":…}, "counts":[…], …}.
nlohmann::json ToJson(const ImageEvaluation& evaluation);
nlohmann::json ToJson(const DatasetEvaluation& evaluation);

// Reads a ground-truth instance image as CV_32SC1:
// - a 16-bit (or 32-bit) single-channel PNG/TIFF: labels as stored (DSB2018, U2OS here);
// - an 8-bit single-channel image with at most two values: a binary mask whose 8-connected
//   components are the instances (NIH3T3 here; touching objects stay merged);
// - an 8-bit image with more values: labels as stored;
// - a directory: one binary mask file per instance (DSB2018 stage-1 training layout; a `masks`
//   subdirectory is used when present); files in name order get labels 1..N, later masks win
//   where they overlap.
// Colour images are rejected. Reads files; safe to call concurrently.
Result<cv::Mat> ReadGroundTruthLabels(const std::string& path);

// Ground truth for `image_path` in this repository's data layout: <dir>/images/<name>.<ext> ->
// <dir>/labels/<name>.* or <dir>/masks/<name>.* or <dir>/masks/<stem>/ (first that exists).
// NotFound when none does.
Result<std::string> FindGroundTruthPath(const std::string& image_path);

}  // namespace seghub::imaging

#endif  // SEGHUB_IMAGING_EVALUATION_H_
