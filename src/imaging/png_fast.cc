#include "imaging/png_fast.h"

#include <libdeflate.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace seghub::imaging {
namespace {

constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

struct Header {
  uint32_t width = 0, height = 0;
  int depth = 0;  // bits per sample: 8 or 16
  int color_type = 0;
  int channels = 0;  // in the file
};

// The IHDR this reader handles, else nullopt.
std::optional<Header> ParseIhdr(const uint8_t* d, uint32_t len) {
  if (len != 13) return std::nullopt;
  Header h;
  h.width = Be32(d);
  h.height = Be32(d + 4);
  h.depth = d[8];
  h.color_type = d[9];
  if (h.width == 0 || h.height == 0 || (h.depth != 8 && h.depth != 16)) return std::nullopt;
  if (d[10] != 0 || d[11] != 0 || d[12] != 0) return std::nullopt;  // method, filter, interlace
  switch (h.color_type) {
    case 0:
      h.channels = 1;
      break;
    case 2:
      h.channels = 3;
      break;
    case 6:
      h.channels = 4;
      break;
    default:
      return std::nullopt;  // palette and grey + alpha: OpenCV's conversions apply
  }
  return h;
}

// Walks the chunks, checking every CRC; collects IDAT. nullopt on anything unusual.
std::optional<Header> ReadChunks(std::span<const uint8_t> b, std::vector<uint8_t>* idat) {
  if (b.size() < 8 || std::memcmp(b.data(), kSignature, 8) != 0) return std::nullopt;
  std::optional<Header> header;
  size_t pos = 8;
  while (pos + 12 <= b.size()) {
    const uint32_t len = Be32(&b[pos]);
    if (len > b.size() - pos - 12) return std::nullopt;
    const uint8_t* type = &b[pos + 4];
    const uint8_t* data = type + 4;
    if (libdeflate_crc32(0, type, len + 4) != Be32(data + len)) return std::nullopt;
    pos += 12 + len;
    if (!header) {
      if (std::memcmp(type, "IHDR", 4) != 0 || !(header = ParseIhdr(data, len))) {
        return std::nullopt;
      }
    } else if (std::memcmp(type, "IDAT", 4) == 0) {
      idat->insert(idat->end(), data, data + len);
    } else if (std::memcmp(type, "IEND", 4) == 0) {
      return idat->empty() ? std::nullopt : header;
    } else if (std::memcmp(type, "tRNS", 4) == 0 || (type[0] & 0x20) == 0) {
      return std::nullopt;  // transparency, or a critical chunk (PLTE, unknown)
    }
  }
  return std::nullopt;  // no IEND
}

// Reverses the per-row filters in place. `raw` holds rows of 1 filter byte + `stride` bytes.
bool Unfilter(uint8_t* raw, size_t rows, size_t stride, size_t bpp) {
  const std::vector<uint8_t> zeros(stride, 0);
  const uint8_t* up = zeros.data();
  for (size_t y = 0; y < rows; ++y) {
    uint8_t* row = raw + y * (stride + 1);
    uint8_t* cur = row + 1;
    switch (row[0]) {
      case 0:
        break;
      case 1:
        for (size_t i = bpp; i < stride; ++i) cur[i] += cur[i - bpp];
        break;
      case 2:
        for (size_t i = 0; i < stride; ++i) cur[i] += up[i];
        break;
      case 3:
        for (size_t i = 0; i < bpp; ++i) cur[i] += up[i] >> 1;
        for (size_t i = bpp; i < stride; ++i) cur[i] += (cur[i - bpp] + up[i]) >> 1;
        break;
      case 4:
        for (size_t i = 0; i < bpp; ++i) cur[i] += up[i];  // Paeth with a = c = 0 picks b
        for (size_t i = bpp; i < stride; ++i) {
          const int a = cur[i - bpp], b = up[i], c = up[i - bpp];
          const int pa = std::abs(b - c), pb = std::abs(a - c), pc = std::abs(a + b - 2 * c);
          cur[i] += (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
        }
        break;
      default:
        return false;
    }
    up = cur;
  }
  return true;
}

// Rows of the unfiltered data -> the output image: alpha dropped, 16-bit samples to host order.
cv::Mat ToMat(const uint8_t* raw, const Header& h, size_t stride) {
  const int out_channels = h.channels == 4 ? 3 : h.channels;
  const int depth = h.depth == 16 ? CV_16U : CV_8U;
  cv::Mat out(static_cast<int>(h.height), static_cast<int>(h.width),
              CV_MAKETYPE(depth, out_channels));
  const size_t bytes = h.depth / 8;
  for (int y = 0; y < out.rows; ++y) {
    const uint8_t* src = raw + y * (stride + 1) + 1;
    if (h.channels != 4 && bytes == 1) {
      std::memcpy(out.ptr(y), src, stride);
      continue;
    }
    uint8_t* o8 = out.ptr<uint8_t>(y);
    uint16_t* o16 = out.ptr<uint16_t>(y);
    for (int x = 0; x < out.cols; ++x, src += h.channels * bytes) {
      for (int c = 0; c < out_channels; ++c) {
        const uint8_t* s = src + c * bytes;
        if (bytes == 1) {
          o8[x * out_channels + c] = s[0];
        } else {
          o16[x * out_channels + c] = static_cast<uint16_t>((s[0] << 8) | s[1]);
        }
      }
    }
  }
  return out;
}

struct DecompressorDeleter {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

}  // namespace

std::optional<FastPng> DecodePngFast(std::span<const uint8_t> bytes) {
  std::vector<uint8_t> idat;
  const std::optional<Header> h = ReadChunks(bytes, &idat);
  if (!h) return std::nullopt;
  const size_t bpp = static_cast<size_t>(h->channels) * h->depth / 8;
  const size_t stride = h->width * bpp;
  const size_t raw_size = h->height * (stride + 1);
  // Deflate expands at most ~1032x: a header promising more than the data can hold is left to
  // OpenCV rather than allocated here.
  if (raw_size / 1032 > idat.size() + 64) return std::nullopt;
  std::vector<uint8_t> raw(raw_size);
  // One decompressor per thread: it is a few KB of tables, reused across images.
  thread_local std::unique_ptr<libdeflate_decompressor, DecompressorDeleter> decompressor(
      libdeflate_alloc_decompressor());
  if (!decompressor) return std::nullopt;
  size_t produced = 0;
  if (libdeflate_zlib_decompress(decompressor.get(), idat.data(), idat.size(), raw.data(),
                                 raw.size(), &produced) != LIBDEFLATE_SUCCESS ||
      produced != raw.size()) {
    return std::nullopt;
  }
  if (!Unfilter(raw.data(), h->height, stride, bpp)) return std::nullopt;
  return FastPng{ToMat(raw.data(), *h, stride), h->channels == 4};
}

}  // namespace seghub::imaging
