// Tiled inference for images larger than a model's input: PlanTiles covers the image with T×T
// tiles overlapping by O pixels (the last tile in a row/column is shifted inward so it ends at
// the image border; an image smaller than T gets one tile, padded by reflection in ExtractTile).
// TileBlender accumulates per-tile outputs with a raised-cosine ramp over the overlap, so tile
// boundaries leave no seam, and divides by the summed weights. Weights are strictly positive and
// accumulated in double, so an identity "model" reproduces its input exactly.
// PlanTiles/ExtractTile are pure; a TileBlender is thread-compatible (one writer at a time).
#ifndef SEGHUB_IMAGING_TILING_H_
#define SEGHUB_IMAGING_TILING_H_

#include <opencv2/core.hpp>
#include <vector>

#include "common/status.h"

namespace seghub::imaging {

struct TilingOptions {
  int tile_size = 1024;
  int overlap = 128;
};

// Tile rectangles in image coordinates, row-major. Each is tile_size wide/high, clipped to the
// image when the image is smaller than a tile. Error if tile_size <= 0 or overlap outside
// [0, tile_size).
Result<std::vector<cv::Rect>> PlanTiles(cv::Size image_size, const TilingOptions& options);

// The tile's pixels at exactly tile_size × tile_size; regions beyond the image are filled by
// reflection (BORDER_REFLECT_101), so the model sees no artificial edge.
Result<cv::Mat> ExtractTile(const cv::Mat& image, const cv::Rect& tile, int tile_size);

class TileBlender {
 public:
  // `channels`: of the model output (1 for a probability map). Error on invalid sizes/options.
  static Result<TileBlender> Create(cv::Size image_size, int channels,
                                    const TilingOptions& options);

  // `output` is the model output for `tile`: tile_size × tile_size (padding is cropped away) or
  // exactly tile.size(); any depth, converted to double. Error on size/channel mismatch.
  Status Add(const cv::Rect& tile, const cv::Mat& output);

  // Weighted mean as CV_32FC(channels). Error if some pixel was covered by no tile.
  Result<cv::Mat> Finish() const;

 private:
  TileBlender(cv::Size image_size, int channels, const TilingOptions& options);

  // Weight of position `d` in a tile of `length` pixels; ramps only on sides with a neighbour.
  double AxisWeight(int d, int length, bool ramp_start, bool ramp_end) const;

  cv::Size image_size_;
  int channels_;
  TilingOptions options_;
  cv::Mat sum_;     // CV_64FC(channels)
  cv::Mat weight_;  // CV_64FC1
};

}  // namespace seghub::imaging

#endif  // SEGHUB_IMAGING_TILING_H_
