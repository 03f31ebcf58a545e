#include "imaging/instances.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

namespace seghub::imaging {
namespace {

// Markers: plateaus of local distance maxima (merged by connectivity).
int PeakMarkers(const cv::Mat& foreground, const cv::Mat& dist, const InstanceOptions& o,
                cv::Mat* markers) {
  cv::Mat dilated;
  const int k = 2 * o.min_distance + 1;
  cv::dilate(dist, dilated, cv::getStructuringElement(cv::MORPH_RECT, {k, k}));
  const cv::Mat peaks = (dist >= dilated) & (dist >= o.min_peak_distance) & foreground;
  return cv::connectedComponents(peaks, *markers, 8, CV_32S) - 1;
}

// Markers: connected cores of at least o.min_core_area px inside the foreground.
int CoreMarkers(const cv::Mat& foreground, const cv::Mat& cores, const InstanceOptions& o,
                cv::Mat* markers) {
  cv::Mat stats, centroids;
  const int n =
      cv::connectedComponentsWithStats(cores & foreground, *markers, stats, centroids, 8, CV_32S);
  std::vector<int> renumber(n, 0);
  int count = 0;
  for (int i = 1; i < n; ++i) {
    if (stats.at<int>(i, cv::CC_STAT_AREA) >= o.min_core_area) renumber[i] = ++count;
  }
  for (int y = 0; y < markers->rows; ++y) {
    int* m = markers->ptr<int>(y);
    for (int x = 0; x < markers->cols; ++x) m[x] = renumber[m[x]];
  }
  return count;
}

// Gives the deepest pixel of every component without a marker one of its own, so no object is
// lost. Components holding a single marker are labelled whole here: flooding them could only
// hand every pixel that one label, so the flood only visits components it has to split (on a
// spheroid photo, usually none). Returns the number of markers.
int CompleteMarkers(const cv::Mat& foreground, const cv::Mat& dist, int count, cv::Mat* markers) {
  cv::Mat components;
  const int n = cv::connectedComponents(foreground, components, 8, CV_32S);
  // markers_in is 1 exactly when a component holds one distinct marker (above 1 it counts
  // changes of marker along the scan, not distinct markers; only "one or more" matters).
  std::vector<int> markers_in(n, 0);
  std::vector<int> marker_of(n, 0);  // the last marker seen in the component
  std::vector<float> best(n, -1.0f);
  std::vector<cv::Point> deepest(n);
  for (int y = 0; y < dist.rows; ++y) {
    const int* c = components.ptr<int>(y);
    const int* m = markers->ptr<int>(y);
    const float* d = dist.ptr<float>(y);
    for (int x = 0; x < dist.cols; ++x) {
      if (c[x] == 0) continue;
      if (m[x] > 0 && m[x] != marker_of[c[x]]) {
        marker_of[c[x]] = m[x];
        markers_in[c[x]]++;
      }
      if (d[x] > best[c[x]]) {
        best[c[x]] = d[x];
        deepest[c[x]] = {x, y};
      }
    }
  }
  for (int c = 1; c < n; ++c) {
    if (markers_in[c] == 0) {
      marker_of[c] = ++count;
      markers_in[c] = 1;
      markers->at<int>(deepest[c]) = marker_of[c];
    }
  }
  for (int y = 0; y < dist.rows; ++y) {
    const int* c = components.ptr<int>(y);
    int* m = markers->ptr<int>(y);
    for (int x = 0; x < dist.cols; ++x) {
      if (c[x] > 0 && markers_in[c[x]] == 1) m[x] = marker_of[c[x]];
    }
  }
  return count;
}

// Meyer's marker-controlled watershed on the inverted distance, restricted to the foreground:
// pixels are claimed deepest-first by the label of the neighbour that reached them. (cv::watershed
// ranks pixels by colour difference to their neighbour, not by height, so on a smooth distance
// map whichever marker starts first floods everything.) The queue is a bucket per 1/kLevels px
// of depth, FIFO within a bucket: linear time, where a binary heap spent most of a large image's
// postprocessing in its log n. A pixel deeper than the level being flooded joins that level, as
// in Meyer's hierarchical queue. Ties go first-come, first-served.
void FloodFromMarkers(const cv::Mat& foreground, const cv::Mat& dist, cv::Mat* labels) {
  constexpr float kLevels = 32.0f;
  const int cols = dist.cols;
  double max_depth = 0.0;
  cv::minMaxLoc(dist, nullptr, &max_depth);
  std::vector<std::vector<int32_t>> buckets(static_cast<size_t>(max_depth * kLevels) + 1);
  int* lab = labels->ptr<int>();
  const float* d = dist.ptr<float>();
  const uint8_t* fg = foreground.ptr<uint8_t>();
  size_t level = buckets.size() - 1;  // the bucket being flooded; only ever decreases
  // Negative labels are tentative: queued, reached first by that label, not yet claimed.
  const auto visit = [&](int n, int label) {
    if (!fg[n] || lab[n] != 0) return;
    lab[n] = -label;
    buckets[std::min(level, static_cast<size_t>(d[n] * kLevels))].push_back(n);
  };
  // Foreground pixels are never on the frame, so their four neighbours are always in range.
  const auto push_neighbours = [&](int i) {
    visit(i - 1, lab[i]);
    visit(i + 1, lab[i]);
    visit(i - cols, lab[i]);
    visit(i + cols, lab[i]);
  };
  for (int i = 0; i < dist.rows * cols; ++i) {
    if (lab[i] > 0) push_neighbours(i);
  }
  for (;; --level) {
    std::vector<int32_t>& bucket = buckets[level];
    for (size_t k = 0; k < bucket.size(); ++k) {  // grows while it is read
      const int i = bucket[k];
      lab[i] = -lab[i];
      push_neighbours(i);
    }
    std::vector<int32_t>().swap(bucket);
    if (level == 0) break;
  }
}

// Merges basins across saddles at least ratio x the shallower peak, most saddle-like first
// (union-find over the label adjacency graph), then renumbers labels 1..N.
void MergeShallowSaddles(const cv::Mat& dist, double ratio, int count, cv::Mat* labels) {
  std::vector<float> peak(count + 1, 0.0f);
  struct Edge {
    int a, b;
    float saddle;
  };
  std::vector<Edge> edges;
  const auto consider = [&](int la, int lb, float da, float db) {
    if (la > 0 && lb > 0 && la != lb) edges.push_back({la, lb, std::min(da, db)});
  };
  for (int y = 0; y < dist.rows; ++y) {
    const int* l = labels->ptr<int>(y);
    const int* below = y + 1 < dist.rows ? labels->ptr<int>(y + 1) : nullptr;
    const float* d = dist.ptr<float>(y);
    const float* d_below = below ? dist.ptr<float>(y + 1) : nullptr;
    for (int x = 0; x < dist.cols; ++x) {
      if (l[x] > 0) peak[l[x]] = std::max(peak[l[x]], d[x]);
      if (x + 1 < dist.cols) consider(l[x], l[x + 1], d[x], d[x + 1]);
      if (below) consider(l[x], below[x], d[x], d_below[x]);
    }
  }
  std::sort(edges.begin(), edges.end(),
            [](const Edge& p, const Edge& q) { return p.saddle > q.saddle; });
  std::vector<int> parent(count + 1);
  std::iota(parent.begin(), parent.end(), 0);
  const auto find = [&](int v) {
    while (parent[v] != v) v = parent[v] = parent[parent[v]];
    return v;
  };
  for (const Edge& e : edges) {  // the first edge seen per pair carries its highest saddle
    const int ra = find(e.a), rb = find(e.b);
    if (ra == rb || e.saddle < ratio * std::min(peak[ra], peak[rb])) continue;
    parent[rb] = ra;
    peak[ra] = std::max(peak[ra], peak[rb]);
  }
  std::vector<int> renumber(count + 1, 0);
  int next = 0;
  for (int y = 0; y < labels->rows; ++y) {
    int* l = labels->ptr<int>(y);
    for (int x = 0; x < labels->cols; ++x) {
      if (l[x] <= 0) continue;
      int& r = renumber[find(l[x])];
      if (r == 0) r = ++next;
      l[x] = r;
    }
  }
}

}  // namespace

namespace {

Status CheckOptions(const InstanceOptions& options) {
  if (options.min_distance < 1) return InvalidArgument("min_distance must be at least 1");
  if (!(options.saddle_ratio >= 0.0 && options.saddle_ratio <= 1.0)) {
    return InvalidArgument("saddle_ratio must lie in [0, 1]");
  }
  return Status::Ok();
}

// `mask` CV_8UC1 (checked); `cores` empty (distance peaks seed the flood) or CV_8UC1 of its size.
Result<cv::Mat> Separate(const cv::Mat& mask, const cv::Mat& cores,
                         const InstanceOptions& options) {
  SEGHUB_RETURN_IF_ERROR(CheckOptions(options));
  try {
    cv::Mat labels(mask.size(), CV_32SC1, cv::Scalar(0));
    // Everything outside the foreground's bounding box is background, so working on that box
    // alone gives the same labels (the box's edges are the image's or border background) at a
    // fraction of the cost when the objects cover part of the image.
    const cv::Rect box = cv::boundingRect(mask);
    if (box.empty()) return labels;
    // The box plus a one-pixel background frame: distances count the outside of the image as
    // background (objects cut by the border still peak inside), and the flood needs no bounds
    // checks. Every step below gives the frame no label.
    const auto framed = [&](const cv::Mat& m) {
      cv::Mat out;
      cv::copyMakeBorder(m(box) != 0, out, 1, 1, 1, 1, cv::BORDER_CONSTANT, cv::Scalar(0));
      return out;
    };
    const cv::Mat foreground = framed(mask);
    cv::Mat dist, markers;
    cv::distanceTransform(foreground, dist, cv::DIST_L2, cv::DIST_MASK_PRECISE);
    int count = cores.empty() ? PeakMarkers(foreground, dist, options, &markers)
                              : CoreMarkers(foreground, framed(cores), options, &markers);
    count = CompleteMarkers(foreground, dist, count, &markers);
    if (count == 0) return labels;
    FloodFromMarkers(foreground, dist, &markers);
    if (options.saddle_ratio > 0.0)
      MergeShallowSaddles(dist, options.saddle_ratio, count, &markers);
    markers(cv::Rect(1, 1, box.width, box.height)).copyTo(labels(box));
    return labels;
  } catch (const cv::Exception& e) {
    return Internal(std::string("instance separation failed: ") + e.what());
  }
}

}  // namespace

Result<cv::Mat> SeparateInstances(const cv::Mat& mask, const InstanceOptions& options) {
  if (mask.empty() || mask.type() != CV_8UC1) return InvalidArgument("mask must be CV_8UC1");
  return Separate(mask, cv::Mat(), options);
}

Result<cv::Mat> ForegroundMask(const cv::Mat& probabilities, const InstanceOptions& options) {
  if (probabilities.empty() || probabilities.type() != CV_32FC1) {
    return InvalidArgument("probabilities must be a non-empty CV_32FC1 map");
  }
  if (!(options.low_threshold >= 0.0f && options.low_threshold < options.threshold)) {
    return InvalidArgument("low_threshold must lie in [0, threshold)");
  }
  cv::Mat high = probabilities > options.threshold;
  if (options.low_threshold == 0.0f) return high;
  const cv::Mat low = probabilities > options.low_threshold;
  cv::Mat ids;
  const int n = cv::connectedComponents(low, ids, 8, CV_32S);
  std::vector<char> reaches(static_cast<size_t>(n), 0);
  for (int y = 0; y < ids.rows; ++y) {
    const int* id = ids.ptr<int>(y);
    const uchar* h = high.ptr<uchar>(y);
    for (int x = 0; x < ids.cols; ++x) {
      if (h[x]) reaches[id[x]] = 1;
    }
  }
  for (int y = 0; y < ids.rows; ++y) {
    const int* id = ids.ptr<int>(y);
    uchar* h = high.ptr<uchar>(y);
    for (int x = 0; x < ids.cols; ++x) {
      if (id[x] != 0 && !reaches[id[x]]) h[x] = 255;
    }
  }
  return high;
}

Result<cv::Mat> SeparateInstancesFromProbabilities(const cv::Mat& probabilities,
                                                   const InstanceOptions& options) {
  SEGHUB_ASSIGN_OR_RETURN(const cv::Mat mask, ForegroundMask(probabilities, options));
  return SeparateInstances(mask, options);
}

Result<cv::Mat> SeparateInstancesFromCores(const cv::Mat& probabilities, const cv::Mat& cores,
                                           const InstanceOptions& options) {
  if (probabilities.empty() || probabilities.type() != CV_32FC1 || cores.type() != CV_32FC1 ||
      cores.size() != probabilities.size()) {
    return InvalidArgument("probabilities and cores must be non-empty CV_32FC1 maps of one size");
  }
  if (options.min_core_area < 1) return InvalidArgument("min_core_area must be at least 1");
  SEGHUB_ASSIGN_OR_RETURN(const cv::Mat mask, ForegroundMask(probabilities, options));
  return Separate(mask, cores > options.core_threshold, options);
}

}  // namespace seghub::imaging
