#include "imaging/raster_exports.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "imaging/normalize.h"

namespace seghub::imaging {
namespace {

std::vector<cv::Point> Rounded(const std::vector<cv::Point2f>& ring) {
  std::vector<cv::Point> out;
  out.reserve(ring.size());
  for (const cv::Point2f& p : ring) out.emplace_back(cvRound(p.x), cvRound(p.y));
  return out;
}

}  // namespace

Result<cv::Mat> ToDisplayRgb(const cv::Mat& image) {
  cv::Mat eight;
  if (image.depth() == CV_8U) {
    eight = image;
  } else {
    NormalizeOptions full;
    full.mode = image.depth() == CV_32F ? NormalizeMode::kFullRange : NormalizeMode::kPercentile;
    SEGHUB_ASSIGN_OR_RETURN(const cv::Mat unit, NormalizeToUnit(image, full));
    unit.convertTo(eight, CV_8U, 255.0);
  }
  return ToChannels(eight, 3);
}

Status RasterizeObject(const std::vector<cv::Point2f>& outer,
                       const std::vector<std::vector<cv::Point2f>>& holes, double value,
                       cv::Mat* canvas) {
  if (canvas == nullptr || canvas->empty() || canvas->channels() != 1) {
    return InvalidArgument("rasterising needs a single-channel canvas");
  }
  if (outer.size() < 3) return InvalidArgument("outer ring needs at least 3 points");
  try {
    const cv::Scalar v(value);
    std::vector<std::vector<cv::Point>> ring = {Rounded(outer)};
    cv::fillPoly(*canvas, ring, v);
    cv::polylines(*canvas, ring, true, v);  // fillPoly may leave right/bottom edge pixels
    for (const auto& hole : holes) {
      if (hole.size() < 3) continue;
      ring = {Rounded(hole)};
      cv::fillPoly(*canvas, ring, cv::Scalar(0));
      cv::polylines(*canvas, ring, true, v);
    }
  } catch (const cv::Exception& e) {
    return Internal(std::string("rasterising failed: ") + e.what());
  }
  return Status::Ok();
}

Result<cv::Mat> RenderLabelImage(const std::vector<Polygon>& polygons, cv::Size size) {
  if (size.width <= 0 || size.height <= 0) return InvalidArgument("label image size is empty");
  const std::vector<PolygonGroup> groups = GroupHoles(polygons);
  if (groups.size() > 65535) {
    return InvalidArgument(std::to_string(groups.size()) +
                           " objects do not fit a 16-bit label image (max 65535)");
  }
  cv::Mat labels(size, CV_16UC1, cv::Scalar(0));
  for (size_t k = 0; k < groups.size(); ++k) {
    std::vector<std::vector<cv::Point2f>> holes;
    for (size_t h : groups[k].holes) holes.push_back(polygons[h].points);
    SEGHUB_RETURN_IF_ERROR(RasterizeObject(polygons[groups[k].external].points, holes,
                                           static_cast<double>(k + 1), &labels));
  }
  return labels;
}

Result<std::vector<uint8_t>> EncodePng(const cv::Mat& image) {
  if (image.empty()) return InvalidArgument("cannot encode an empty image");
  if (image.depth() != CV_8U && image.depth() != CV_16U) {
    return InvalidArgument("PNG needs 8- or 16-bit samples");
  }
  std::vector<uint8_t> bytes;
  try {
    cv::Mat bgr = image;
    if (image.channels() == 3) cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR);
    if (!cv::imencode(".png", bgr, bytes)) return Internal("PNG encoder failed");
  } catch (const cv::Exception& e) {
    return Internal(std::string("PNG encoding failed: ") + e.what());
  }
  return bytes;
}

Result<std::vector<uint8_t>> RenderOverlayPng(const cv::Mat& image,
                                              const std::vector<Polygon>& polygons, int thickness) {
  if (image.empty()) return InvalidArgument("cannot draw on an empty image");
  SEGHUB_ASSIGN_OR_RETURN(cv::Mat rgb, ToDisplayRgb(image));
  rgb = rgb.clone();  // never draw into the caller's pixels
  try {
    for (const Polygon& p : polygons) {
      const cv::Scalar colour =
          p.type == PolygonType::kExternal ? cv::Scalar(0, 255, 0) : cv::Scalar(255, 0, 0);
      const std::vector<std::vector<cv::Point>> ring = {Rounded(p.points)};
      cv::polylines(rgb, ring, true, colour, std::max(1, thickness), cv::LINE_AA);
    }
  } catch (const cv::Exception& e) {
    return Internal(std::string("drawing the overlay failed: ") + e.what());
  }
  return EncodePng(rgb);
}

}  // namespace seghub::imaging
