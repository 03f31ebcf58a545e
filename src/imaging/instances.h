// Instance separation of touching objects: foreground mask -> Euclidean distance transform ->
// markers at distance peaks -> marker-controlled watershed (Meyer flooding) of the inverted
// distance. Each connected component gets at least one marker (its deepest point), so no object is
// lost; two peaks closer than min_distance, or a peak lower than min_peak_distance, do not split an
// object. Optionally, neighbouring basins whose shared border (saddle) is nearly as deep as the
// shallower of their peaks are merged afterwards: an elongated or irregular nucleus has several
// distance peaks joined by a broad ridge, two touching round nuclei a narrow neck.
// Alternatively a model's own core map seeds the flood (SeparateInstancesFromCores): one marker per
// predicted core, which stays apart where touching objects merge in the foreground.
// Pure functions; thread-safe.
#ifndef SEGHUB_IMAGING_INSTANCES_H_
#define SEGHUB_IMAGING_INSTANCES_H_

#include <opencv2/core.hpp>

#include "common/status.h"

namespace seghub::imaging {

struct InstanceOptions {
  float threshold = 0.5f;  // foreground = probability > threshold
  // Peaks are local maxima of the distance within a (2·min_distance+1)² window, so objects whose
  // centres are closer than this stay one instance.
  int min_distance = 5;
  // Peaks with a smaller distance to the background (px) are ignored: thin necks are not objects.
  double min_peak_distance = 2.0;
  // 0 = off. Else two touching basins merge when their saddle distance is at least
  // saddle_ratio x the lower of their peak distances (a neck at least that wide, relative to the
  // smaller object's radius). Scale-free, unlike min_distance. Valid range [0, 1].
  double saddle_ratio = 0.0;
  // Cores: a core is a connected region of core probability > core_threshold inside the
  // foreground; regions under min_core_area px seed nothing (noise on a seam).
  float core_threshold = 0.5f;
  int min_core_area = 4;
  // 0 = off. Else connected regions of probability > low_threshold that hold no pixel above
  // threshold are objects too: small dim nuclei whose peak stays under the threshold. Regions
  // that do reach the threshold keep its extent, so neighbours never merge through the lower
  // level. Valid range [0, threshold).
  float low_threshold = 0.0f;
};

// `mask`: CV_8UC1, non-zero = foreground. Returns CV_32SC1 labels, 0 = background, 1..N.
// Every foreground pixel gets a label; no ridge pixels are left between instances.
Result<cv::Mat> SeparateInstances(const cv::Mat& mask, const InstanceOptions& options = {});

// Same from a CV_32FC1 probability map, thresholded with `>` (and low_threshold, above).
Result<cv::Mat> SeparateInstancesFromProbabilities(const cv::Mat& probabilities,
                                                   const InstanceOptions& options = {});

// The foreground SeparateInstancesFromProbabilities and ...FromCores separate: probability >
// threshold, plus the regions low_threshold adds. CV_8UC1, 255 = foreground.
Result<cv::Mat> ForegroundMask(const cv::Mat& probabilities, const InstanceOptions& options);

// `probabilities` and `cores`: CV_32FC1 maps of one size (foreground and core probability).
// Markers are the cores, plus the deepest pixel of every foreground component without one; the
// flood and the optional saddle merge are SeparateInstances'. min_distance and min_peak_distance
// play no part.
Result<cv::Mat> SeparateInstancesFromCores(const cv::Mat& probabilities, const cv::Mat& cores,
                                           const InstanceOptions& options = {});

}  // namespace seghub::imaging

#endif  // SEGHUB_IMAGING_INSTANCES_H_
