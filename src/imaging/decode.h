// Decoding untrusted image bytes (PNG, JPEG, BMP, TIFF incl. multi-page, WebP) into a cv::Mat that
// keeps the source bit depth (8-bit, 16-bit, or 32-bit float TIFF). Limits are enforced BEFORE any
// pixel is decoded: byte size, then the header's pixel count (decompression bombs). Alpha is
// dropped without compositing and colour is returned in RGB order, as the Hub's PIL
// convert('RGB') does. No EXIF orientation is applied (the Hub does not apply it either).
// Never throws; OpenCV exceptions become Status. Thread-safe.
#ifndef SEGHUB_IMAGING_DECODE_H_
#define SEGHUB_IMAGING_DECODE_H_

#include <cstdint>
#include <opencv2/core.hpp>
#include <span>
#include <vector>

#include "common/status.h"
#include "imaging/header_probe.h"

namespace seghub::imaging {

struct DecodeLimits {
  // The Hub's upload limit (20 MB per image; multer counts MiB).
  uint64_t max_bytes = 20ull * 1024 * 1024;
  // 100 megapixels: a 10k x 10k scan still decodes; a 30k x 30k bomb (900 MP, ~2.7 GB as RGB)
  // does not. For DecodeAllPages this bounds the sum over all pages.
  int64_t max_pixels = 100'000'000;
  int max_pages = 10000;
};

struct DecodedImage {
  // CV_8UC1/CV_8UC3, CV_16UC1/CV_16UC3 or CV_32FC1/CV_32FC3; RGB channel order, alpha removed.
  cv::Mat pixels;
  ImageFormat format = ImageFormat::kPng;
  int page_index = 0;  // which page of a multi-page TIFF this is
  int page_count = 1;  // pages in the file (TIFF IFD chain), 1 for other formats
  bool had_alpha = false;
};

// Decodes page `page` (0-based; only TIFF has more than one) of `bytes`.
// Errors: kPayloadTooLarge (bytes or pixels over the limits, message gives size and limit),
// kInvalidArgument (empty, unknown or corrupt data, page out of range, unsupported sample type).
Result<DecodedImage> DecodeImage(std::span<const uint8_t> bytes, const DecodeLimits& limits = {},
                                 int page = 0);

// Decodes every page (one for non-TIFF). The pixel limit applies to the sum over the pages.
Result<std::vector<DecodedImage>> DecodeAllPages(std::span<const uint8_t> bytes,
                                                 const DecodeLimits& limits = {});

}  // namespace seghub::imaging

#endif  // SEGHUB_IMAGING_DECODE_H_
