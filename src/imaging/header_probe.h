// Image header probing: identifies the container format from magic bytes and reads the pixel
// dimensions from the header (PNG IHDR, JPEG SOF, BMP DIB header, TIFF IFDs, WebP VP8/VP8L/VP8X)
// WITHOUT decoding pixel data. The decoder uses this to refuse decompression bombs before any
// large allocation happens. Pure functions; thread-safe.
#ifndef SEGHUB_IMAGING_HEADER_PROBE_H_
#define SEGHUB_IMAGING_HEADER_PROBE_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace seghub::imaging {

enum class ImageFormat { kPng, kJpeg, kBmp, kTiff, kWebp };

// "PNG", "JPEG", ...
std::string_view ImageFormatName(ImageFormat format);

// The message used for bytes that are no image we support (also used by the decoder).
inline constexpr std::string_view kUnsupportedImageMessage =
    "not a supported image (PNG, JPEG, BMP, TIFF, WebP)";

struct PageHeader {
  int64_t width = 0;
  int64_t height = 0;
  int channels = 0;         // 0 when the header does not say (e.g. JPEG before SOF parsing)
  int bits_per_sample = 0;  // 8, 16, ... (0 when unknown)
  uint64_t ifd_offset = 0;  // TIFF only: where this page's IFD starts
};

struct ImageHeader {
  ImageFormat format = ImageFormat::kPng;
  bool big_endian = false;        // TIFF only ("MM")
  bool big_tiff = false;          // TIFF only (version 43)
  std::vector<PageHeader> pages;  // at least one; several only for multi-page TIFF

  const PageHeader& first() const { return pages.front(); }
};

// Returns kInvalidArgument for empty input, unknown magic bytes, or a truncated/corrupt header.
// `max_pages` bounds the TIFF IFD walk (a crafted file could chain millions of IFDs).
Result<ImageHeader> ProbeHeader(std::span<const uint8_t> bytes, int max_pages = 10000);

}  // namespace seghub::imaging

#endif  // SEGHUB_IMAGING_HEADER_PROBE_H_
