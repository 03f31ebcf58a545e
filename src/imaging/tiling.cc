#include "imaging/tiling.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <opencv2/core.hpp>
#include <string>

namespace seghub::imaging {
namespace {

// Start offsets along one axis: stride tile - overlap, last tile flush with the far border.
std::vector<int> AxisStarts(int length, int tile, int overlap) {
  if (length <= tile) return {0};
  std::vector<int> starts;
  const int stride = tile - overlap;
  for (int s = 0;; s += stride) {
    if (s + tile >= length) {
      starts.push_back(length - tile);
      break;
    }
    starts.push_back(s);
  }
  return starts;
}

Status ValidateOptions(const TilingOptions& o) {
  if (o.tile_size <= 0) return InvalidArgument("tile size must be positive");
  if (o.overlap < 0 || o.overlap >= o.tile_size) {
    return InvalidArgument("overlap must be in [0, tile size), got " + std::to_string(o.overlap));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<cv::Rect>> PlanTiles(cv::Size image_size, const TilingOptions& options) {
  SEGHUB_RETURN_IF_ERROR(ValidateOptions(options));
  if (image_size.width <= 0 || image_size.height <= 0) {
    return InvalidArgument("cannot tile an empty image");
  }
  const int t = options.tile_size;
  std::vector<cv::Rect> tiles;
  for (int y : AxisStarts(image_size.height, t, options.overlap)) {
    for (int x : AxisStarts(image_size.width, t, options.overlap)) {
      tiles.emplace_back(x, y, std::min(t, image_size.width), std::min(t, image_size.height));
    }
  }
  return tiles;
}

Result<cv::Mat> ExtractTile(const cv::Mat& image, const cv::Rect& tile, int tile_size) {
  if (image.empty()) return InvalidArgument("cannot extract a tile from an empty image");
  if ((tile & cv::Rect(0, 0, image.cols, image.rows)) != tile || tile.empty() ||
      tile.width > tile_size || tile.height > tile_size) {
    return InvalidArgument("tile lies outside the image or exceeds the tile size");
  }
  cv::Mat out;
  try {
    // REFLECT_101 mirrors without repeating the edge pixel; OpenCV handles pads longer than the
    // image (tiny images) by reflecting repeatedly.
    cv::copyMakeBorder(
        image(tile), out, 0, tile_size - tile.height, 0, tile_size - tile.width,
        image.rows > 1 && image.cols > 1 ? cv::BORDER_REFLECT_101 : cv::BORDER_REPLICATE);
  } catch (const cv::Exception& e) {
    return Internal(std::string("tile padding failed: ") + e.what());
  }
  return out;
}

Result<TileBlender> TileBlender::Create(cv::Size image_size, int channels,
                                        const TilingOptions& options) {
  SEGHUB_RETURN_IF_ERROR(ValidateOptions(options));
  if (image_size.width <= 0 || image_size.height <= 0) {
    return InvalidArgument("cannot blend into an empty image");
  }
  if (channels < 1 || channels > 4) return InvalidArgument("tile outputs need 1 to 4 channels");
  return TileBlender(image_size, channels, options);
}

TileBlender::TileBlender(cv::Size image_size, int channels, const TilingOptions& options)
    : image_size_(image_size),
      channels_(channels),
      options_(options),
      sum_(image_size, CV_MAKETYPE(CV_64F, channels), cv::Scalar::all(0)),
      weight_(image_size, CV_64FC1, cv::Scalar::all(0)) {}

double TileBlender::AxisWeight(int d, int length, bool ramp_start, bool ramp_end) const {
  const int ramp = options_.overlap;
  if (ramp == 0) return 1.0;
  // Raised cosine sampled at pixel centres: strictly positive, reaching 1 after `ramp` pixels.
  const auto rise = [ramp](int k) {
    return k >= ramp ? 1.0 : 0.5 - 0.5 * std::cos(std::numbers::pi * (k + 0.5) / ramp);
  };
  double w = 1.0;
  if (ramp_start) w = std::min(w, rise(d));
  if (ramp_end) w = std::min(w, rise(length - 1 - d));
  return w;
}

Status TileBlender::Add(const cv::Rect& tile, const cv::Mat& output) {
  if ((tile & cv::Rect(0, 0, image_size_.width, image_size_.height)) != tile || tile.empty()) {
    return InvalidArgument("tile lies outside the image");
  }
  if (output.channels() != channels_) {
    return InvalidArgument("tile output has " + std::to_string(output.channels()) +
                           " channels, expected " + std::to_string(channels_));
  }
  const bool padded = output.cols == options_.tile_size && output.rows == options_.tile_size;
  if (!padded && output.size() != tile.size()) {
    return InvalidArgument("tile output size does not match the tile");
  }
  cv::Mat values;
  output(cv::Rect(0, 0, tile.width, tile.height)).convertTo(values, CV_64F);
  // Ramp only towards neighbouring tiles, not at the image border: border pixels keep full weight.
  const bool left = tile.x > 0, top = tile.y > 0;
  const bool right = tile.x + tile.width < image_size_.width;
  const bool bottom = tile.y + tile.height < image_size_.height;
  std::vector<double> wx(tile.width);
  for (int x = 0; x < tile.width; ++x) wx[x] = AxisWeight(x, tile.width, left, right);
  for (int y = 0; y < tile.height; ++y) {
    const double wy = AxisWeight(y, tile.height, top, bottom);
    const double* v = values.ptr<double>(y);
    double* s = sum_.ptr<double>(tile.y + y) + tile.x * channels_;
    double* w = weight_.ptr<double>(tile.y + y) + tile.x;
    for (int x = 0; x < tile.width; ++x) {
      const double wxy = wx[x] * wy;
      w[x] += wxy;
      for (int c = 0; c < channels_; ++c) s[x * channels_ + c] += wxy * v[x * channels_ + c];
    }
  }
  return Status::Ok();
}

Result<cv::Mat> TileBlender::Finish() const {
  cv::Mat out(image_size_, CV_MAKETYPE(CV_32F, channels_));
  for (int y = 0; y < image_size_.height; ++y) {
    const double* s = sum_.ptr<double>(y);
    const double* w = weight_.ptr<double>(y);
    float* o = out.ptr<float>(y);
    for (int x = 0; x < image_size_.width; ++x) {
      if (!(w[x] > 0.0)) {
        return FailedPrecondition("pixel (" + std::to_string(x) + ", " + std::to_string(y) +
                                  ") was covered by no tile");
      }
      for (int c = 0; c < channels_; ++c) {
        o[x * channels_ + c] = static_cast<float>(s[x * channels_ + c] / w[x]);
      }
    }
  }
  return out;
}

}  // namespace seghub::imaging
