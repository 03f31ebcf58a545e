// Raster exports: a 16-bit instance label image and an overlay picture, both as PNG bytes, plus
// the rasteriser they share. A hole ring from cv::findContours runs through object pixels, so
// rasterising fills the outer ring, clears hole interiors and then restores the hole rings:
// polygons extracted from a mask rasterise back to exactly that mask.
// Pure functions; thread-safe.
#ifndef SEGHUB_IMAGING_RASTER_EXPORTS_H_
#define SEGHUB_IMAGING_RASTER_EXPORTS_H_

#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

#include "common/status.h"
#include "imaging/polygons.h"

namespace seghub::imaging {

// Draws the object (outer minus holes) into `canvas` (CV_8UC1, CV_16UC1 or CV_32SC1) as `value`.
Status RasterizeObject(const std::vector<cv::Point2f>& outer,
                       const std::vector<std::vector<cv::Point2f>>& holes, double value,
                       cv::Mat* canvas);

// CV_16UC1 label image: external polygon k (in order) gets label k (1-based), holes stay 0.
// Error above 65535 objects.
Result<cv::Mat> RenderLabelImage(const std::vector<Polygon>& polygons, cv::Size size);

// Any supported image -> 8-bit RGB for display (16-bit by percentiles, float by full range).
Result<cv::Mat> ToDisplayRgb(const cv::Mat& image);

// PNG bytes of any 8- or 16-bit image (RGB order for colour; converted for the encoder).
Result<std::vector<uint8_t>> EncodePng(const cv::Mat& image);

// PNG of `image` (RGB or grey, 8/16-bit/float [0,1]) with external outlines in green and holes
// in red, `thickness` px wide.
Result<std::vector<uint8_t>> RenderOverlayPng(const cv::Mat& image,
                                              const std::vector<Polygon>& polygons,
                                              int thickness = 2);

}  // namespace seghub::imaging

#endif  // SEGHUB_IMAGING_RASTER_EXPORTS_H_
