// ImageJ ROI export: polygons as ImageJ .roi records (the binary format of ij.io.RoiEncoder /
// RoiDecoder) packed in a .zip that Fiji's ROI Manager opens as a ROI set (File > Open, or
// drag the zip onto Fiji).
//
// Record layout (big-endian): a 64-byte header ("Iout", version 228, type 0 = polygon, bounds
// top/left/bottom/right as shorts, point count, stroke colour, options, header2 offset), then
// the x coordinates and the y coordinates as shorts relative to left/top; with sub-pixel
// resolution (option bit 128) the absolute coordinates follow as two float arrays. A 64-byte
// "header2" follows with the name's offset and length; the name is UTF-16BE.
//
// Coordinates are written as the polygons hold them (pixel centres from cv::findContours), as
// Cellpose and StarDist export theirs; ImageJ treats integer vertices as pixel corners, so an
// integer-coordinate ROI covers a half-pixel less on the right and bottom than the mask.
//
// ImageJ has no polygon-with-holes ROI type short of a composite ShapeRoi, so every hole becomes
// its own polygon ROI named after its parent ("spheroid-0003" -> "spheroid-0003-hole-1") and
// drawn in red. Limits of the format: |coordinates| <= 32767 and <= 65535 points per ROI.
// Pure functions; thread-safe.
#ifndef SEGHUB_IMAGING_IMAGEJ_ROI_H_
#define SEGHUB_IMAGING_IMAGEJ_ROI_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "imaging/polygons.h"

namespace seghub::imaging {

inline constexpr int kImageJRoiVersion = 228;
inline constexpr int kImageJPolygonType = 0;
inline constexpr int kImageJSubPixelOption = 128;

struct ImageJRoi {
  std::string name;                 // UTF-8 here, UTF-16 in the file
  std::vector<cv::Point2f> points;  // absolute image coordinates, not closed
  bool sub_pixel = true;            // float coordinates; false: rounded to integers
  uint32_t stroke_color = 0;        // ARGB; 0 = ImageJ's default colour
  int type = kImageJPolygonType;    // set by the decoder: 0 polygon, 7 freehand, 8 traced
};

struct ImageJRoiOptions {
  bool sub_pixel = true;  // false writes integer coordinates only (smaller, older readers)
};

// One .roi record. InvalidArgument for < 3 points, > 65535 points, or coordinates outside the
// format's signed 16-bit range.
Result<std::vector<uint8_t>> EncodeImageJRoi(const ImageJRoi& roi);

// Reads a polygon-family record (polygon, freehand, traced) written by ImageJ or by
// EncodeImageJRoi; other ROI types are kUnimplemented, malformed bytes kInvalidArgument.
Result<ImageJRoi> DecodeImageJRoi(const std::vector<uint8_t>& bytes);

// One ROI per polygon, in the polygons' order (externals with their holes right after them).
std::vector<ImageJRoi> RoisFromPolygons(const std::vector<Polygon>& polygons,
                                        const ImageJRoiOptions& options = {});

// A ROI-set zip: one entry "<roi name>.roi" per polygon, deflated, fixed timestamps (the same
// polygons give the same bytes).
Result<std::vector<uint8_t>> EncodeImageJRoiZip(const std::vector<Polygon>& polygons,
                                                const ImageJRoiOptions& options = {});

struct ImageJRoiEntry {
  std::string entry_name;
  ImageJRoi roi;
};

// Reads every entry of a ROI-set zip, in zip order. Entries over 16 MiB or more than 100000
// entries are refused (kPayloadTooLarge) so a hostile zip cannot exhaust memory.
Result<std::vector<ImageJRoiEntry>> DecodeImageJRoiZip(const std::vector<uint8_t>& zip_bytes);

}  // namespace seghub::imaging

#endif  // SEGHUB_IMAGING_IMAGEJ_ROI_H_
