#include "imaging/decode.h"

#include <cstdint>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "imaging/png_fast.h"

namespace seghub::imaging {
namespace {

Status CheckBytes(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  if (bytes.empty()) return InvalidArgument("empty file: 0 bytes");
  if (bytes.size() > limits.max_bytes) {
    return PayloadTooLarge("image file is " + std::to_string(bytes.size()) +
                           " bytes; the limit is " + std::to_string(limits.max_bytes) + " bytes");
  }
  return Status::Ok();
}

// Header dimensions are up to 2^32 each, so the product can overflow int64: saturate instead.
int64_t PixelCount(int64_t width, int64_t height) {
  int64_t n = 0;
  return __builtin_mul_overflow(width, height, &n) ? INT64_MAX : n;
}

Status CheckPixels(int64_t width, int64_t height, int64_t pixels, const DecodeLimits& limits) {
  if (pixels >= 0 && pixels <= limits.max_pixels) return Status::Ok();
  return PayloadTooLarge("image is " + std::to_string(width) + "x" + std::to_string(height) + " (" +
                         std::to_string(pixels) + " pixels); the limit is " +
                         std::to_string(limits.max_pixels) + " pixels");
}

// OpenCV 4.6 has no in-memory multi-page decoder, and imdecode reads a TIFF's first IFD only.
// Pointing the header's first-IFD offset at page k makes that page the "first" one.
std::vector<uint8_t> TiffWithFirstPage(std::span<const uint8_t> bytes, const ImageHeader& h,
                                       int page) {
  std::vector<uint8_t> copy(bytes.begin(), bytes.end());
  const uint64_t offset = h.pages[page].ifd_offset;
  const int width = h.big_tiff ? 8 : 4;
  const size_t at = h.big_tiff ? 8 : 4;
  for (int i = 0; i < width; ++i) {
    const int shift = 8 * (h.big_endian ? width - 1 - i : i);
    copy[at + i] = static_cast<uint8_t>(offset >> shift);
  }
  return copy;
}

// BGR(A)/grey of any supported depth -> RGB or grey of the same depth, alpha dropped.
Result<cv::Mat> ToRgbDropAlpha(const cv::Mat& m, bool* had_alpha) {
  const int depth = m.depth();
  if (depth != CV_8U && depth != CV_16U && depth != CV_32F) {
    return InvalidArgument("unsupported sample type (OpenCV depth " + std::to_string(depth) +
                           "); expected 8-bit, 16-bit or 32-bit float samples");
  }
  cv::Mat out;
  *had_alpha = m.channels() == 2 || m.channels() == 4;
  switch (m.channels()) {
    case 1:
      out = m;
      break;
    case 2:
      cv::extractChannel(m, out, 0);
      break;  // grey + alpha
    case 3:
      cv::cvtColor(m, out, cv::COLOR_BGR2RGB);
      break;
    case 4:
      cv::cvtColor(m, out, cv::COLOR_BGRA2RGB);
      break;
    default:
      return InvalidArgument("unsupported channel count " + std::to_string(m.channels()));
  }
  return out;
}

Result<DecodedImage> DecodeProbed(std::span<const uint8_t> bytes, const ImageHeader& header,
                                  const DecodeLimits& limits, int page) {
  if (page < 0 || page >= static_cast<int>(header.pages.size())) {
    return InvalidArgument("page " + std::to_string(page) + " out of range; the file has " +
                           std::to_string(header.pages.size()) + " page(s)");
  }
  const PageHeader& p = header.pages[page];
  SEGHUB_RETURN_IF_ERROR(CheckPixels(p.width, p.height, PixelCount(p.width, p.height), limits));
  DecodedImage out;
  out.format = header.format;
  out.page_index = page;
  out.page_count = static_cast<int>(header.pages.size());
  if (header.format == ImageFormat::kPng) {
    if (std::optional<FastPng> fast = DecodePngFast(bytes)) {
      out.pixels = std::move(fast->pixels);
      out.had_alpha = fast->had_alpha;
      return out;
    }
  }
  std::vector<uint8_t> patched;
  if (page > 0) {
    patched = TiffWithFirstPage(bytes, header, page);
    bytes = patched;
  }
  cv::Mat raw;
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U,
                         const_cast<uint8_t*>(bytes.data()));  // imdecode only reads it
    raw = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    return InvalidArgument(std::string(kUnsupportedImageMessage) + ": " +
                           std::string(ImageFormatName(header.format)) + " decoder failed (" +
                           e.what() + ")");
  }
  if (raw.empty()) {
    return InvalidArgument(std::string(kUnsupportedImageMessage) + ": corrupt or truncated " +
                           std::string(ImageFormatName(header.format)) + " data");
  }
  // Belt and braces: the header could lie about the size the codec then produces.
  SEGHUB_RETURN_IF_ERROR(CheckPixels(raw.cols, raw.rows, int64_t{raw.cols} * raw.rows, limits));
  try {
    SEGHUB_ASSIGN_OR_RETURN(out.pixels, ToRgbDropAlpha(raw, &out.had_alpha));
  } catch (const cv::Exception& e) {
    return Internal(std::string("colour conversion failed: ") + e.what());
  }
  return out;
}

}  // namespace

Result<DecodedImage> DecodeImage(std::span<const uint8_t> bytes, const DecodeLimits& limits,
                                 int page) {
  SEGHUB_RETURN_IF_ERROR(CheckBytes(bytes, limits));
  SEGHUB_ASSIGN_OR_RETURN(const ImageHeader header, ProbeHeader(bytes, limits.max_pages));
  return DecodeProbed(bytes, header, limits, page);
}

Result<std::vector<DecodedImage>> DecodeAllPages(std::span<const uint8_t> bytes,
                                                 const DecodeLimits& limits) {
  SEGHUB_RETURN_IF_ERROR(CheckBytes(bytes, limits));
  SEGHUB_ASSIGN_OR_RETURN(const ImageHeader header, ProbeHeader(bytes, limits.max_pages));
  int64_t total = 0;
  for (const PageHeader& p : header.pages) {
    const int64_t n = PixelCount(p.width, p.height);
    total = n > INT64_MAX - total ? INT64_MAX : total + n;
  }
  const PageHeader& first = header.first();
  SEGHUB_RETURN_IF_ERROR(CheckPixels(first.width, first.height, total, limits));
  std::vector<DecodedImage> pages;
  for (int i = 0; i < static_cast<int>(header.pages.size()); ++i) {
    SEGHUB_ASSIGN_OR_RETURN(DecodedImage page, DecodeProbed(bytes, header, limits, i));
    pages.push_back(std::move(page));
  }
  return pages;
}

}  // namespace seghub::imaging
