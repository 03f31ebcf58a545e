#include "imaging/header_probe.h"

#include <cstring>
#include <optional>
#include <string>
#include <unordered_set>

namespace seghub::imaging {
namespace {

// Bounds-checked reader: every out-of-range read yields nullopt so a truncated header can never
// read past the buffer.
class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> bytes, bool big_endian) : b_(bytes), be_(big_endian) {}

  std::optional<uint64_t> Read(uint64_t offset, int width) const {
    if (offset > b_.size() || b_.size() - offset < static_cast<uint64_t>(width)) return {};
    uint64_t v = 0;
    for (int i = 0; i < width; ++i) {
      const uint64_t byte = b_[offset + (be_ ? i : width - 1 - i)];
      v = (v << 8) | byte;
    }
    return v;
  }

 private:
  std::span<const uint8_t> b_;
  bool be_;
};

bool StartsWith(std::span<const uint8_t> b, const char* magic, size_t n, size_t at = 0) {
  return b.size() >= at + n && std::memcmp(b.data() + at, magic, n) == 0;
}

Status Corrupt(ImageFormat f, const std::string& what) {
  return InvalidArgument(std::string(kUnsupportedImageMessage) + ": corrupt or truncated " +
                         std::string(ImageFormatName(f)) + " header (" + what + ")");
}

Result<ImageHeader> ProbePng(std::span<const uint8_t> b) {
  ByteReader r(b, /*big_endian=*/true);
  // Signature (8) + chunk length (4) + "IHDR" (4) + width, height (8) + depth, colour type (2).
  if (b.size() < 26 || !StartsWith(b, "IHDR", 4, 12)) return Corrupt(ImageFormat::kPng, "IHDR");
  PageHeader p;
  p.width = static_cast<int64_t>(*r.Read(16, 4));
  p.height = static_cast<int64_t>(*r.Read(20, 4));
  p.bits_per_sample = b[24];
  static constexpr int kChannelsByColourType[] = {1, 0, 3, 3, 2, 0, 4};
  p.channels = b[25] <= 6 ? kChannelsByColourType[b[25]] : 0;
  if (p.width == 0 || p.height == 0 || p.channels == 0) {
    return Corrupt(ImageFormat::kPng, "IHDR values");
  }
  return ImageHeader{ImageFormat::kPng, true, false, {p}};
}

bool IsJpegSof(uint8_t m) { return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC; }

Result<ImageHeader> ProbeJpeg(std::span<const uint8_t> b) {
  ByteReader r(b, /*big_endian=*/true);
  uint64_t pos = 2;  // after SOI
  while (pos + 4 <= b.size()) {
    if (b[pos] != 0xFF) return Corrupt(ImageFormat::kJpeg, "marker expected");
    const uint8_t marker = b[pos + 1];
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {  // stand-alone markers
      pos += 2;
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) break;  // EOI / SOS before any SOF
    const uint64_t length = *r.Read(pos + 2, 2);
    if (length < 2) return Corrupt(ImageFormat::kJpeg, "segment length");
    if (IsJpegSof(marker)) {
      if (length < 8 || pos + 10 > b.size()) return Corrupt(ImageFormat::kJpeg, "SOF");
      PageHeader p;
      p.bits_per_sample = b[pos + 4];
      p.height = static_cast<int64_t>(*r.Read(pos + 5, 2));
      p.width = static_cast<int64_t>(*r.Read(pos + 7, 2));
      p.channels = b[pos + 9];
      // Height 0 means "defined later by a DNL marker"; OpenCV cannot bound that either.
      if (p.width == 0 || p.height == 0) return Corrupt(ImageFormat::kJpeg, "SOF dimensions");
      return ImageHeader{ImageFormat::kJpeg, true, false, {p}};
    }
    pos += 2 + length;
  }
  return Corrupt(ImageFormat::kJpeg, "no SOF marker");
}

Result<ImageHeader> ProbeBmp(std::span<const uint8_t> b) {
  ByteReader r(b, /*big_endian=*/false);
  const auto dib_size = r.Read(14, 4);
  if (!dib_size) return Corrupt(ImageFormat::kBmp, "DIB header");
  PageHeader p;
  if (*dib_size == 12) {  // BITMAPCOREHEADER: 16-bit unsigned dimensions
    const auto w = r.Read(18, 2), h = r.Read(20, 2), bpp = r.Read(24, 2);
    if (!bpp) return Corrupt(ImageFormat::kBmp, "core header");
    p.width = static_cast<int64_t>(*w);
    p.height = static_cast<int64_t>(*h);
    p.bits_per_sample = static_cast<int>(*bpp);
  } else {
    const auto w = r.Read(18, 4), h = r.Read(22, 4), bpp = r.Read(28, 2);
    if (*dib_size < 40 || !bpp) return Corrupt(ImageFormat::kBmp, "info header");
    p.width = static_cast<int32_t>(*w);
    p.height = static_cast<int32_t>(*h);
    if (p.height < 0) p.height = -p.height;  // negative height = top-down rows
    p.bits_per_sample = static_cast<int>(*bpp);
  }
  p.channels = p.bits_per_sample == 32 ? 4 : 3;
  if (p.width <= 0 || p.height <= 0) return Corrupt(ImageFormat::kBmp, "dimensions");
  return ImageHeader{ImageFormat::kBmp, false, false, {p}};
}

// Reads one IFD entry's first value (SHORT, LONG or LONG8), inline or via its offset.
std::optional<uint64_t> TiffEntryValue(const ByteReader& r, uint64_t entry, bool big) {
  const auto type = r.Read(entry + 2, 2);
  if (!type) return {};
  const int width = *type == 3 ? 2 : *type == 4 ? 4 : *type == 16 ? 8 : 0;
  if (width == 0) return {};
  const auto count = r.Read(entry + 4, big ? 8 : 4);
  if (!count || *count == 0) return {};
  const uint64_t value_at = entry + (big ? 12 : 8);
  const uint64_t inline_bytes = big ? 8 : 4;
  if (*count * width <= inline_bytes) return r.Read(value_at, width);
  const auto offset = r.Read(value_at, big ? 8 : 4);
  if (!offset) return {};
  return r.Read(*offset, width);
}

Status ReadTiffPage(const ByteReader& r, uint64_t ifd, bool big, PageHeader* p, uint64_t* next) {
  const auto count = r.Read(ifd, big ? 8 : 2);
  if (!count) return Corrupt(ImageFormat::kTiff, "IFD offset out of range");
  const uint64_t entries = ifd + (big ? 8 : 2), entry_size = big ? 20 : 12;
  p->ifd_offset = ifd;
  p->channels = 1;
  for (uint64_t i = 0; i < *count; ++i) {
    const uint64_t e = entries + i * entry_size;
    const auto tag = r.Read(e, 2);
    if (!tag) return Corrupt(ImageFormat::kTiff, "IFD entries");
    if (*tag != 256 && *tag != 257 && *tag != 258 && *tag != 277) continue;
    const auto v = TiffEntryValue(r, e, big);
    if (!v) return Corrupt(ImageFormat::kTiff, "IFD value of tag " + std::to_string(*tag));
    if (*tag == 256) p->width = static_cast<int64_t>(*v);
    if (*tag == 257) p->height = static_cast<int64_t>(*v);
    if (*tag == 258) p->bits_per_sample = static_cast<int>(*v);
    if (*tag == 277) p->channels = static_cast<int>(*v);
  }
  if (p->width <= 0 || p->height <= 0) return Corrupt(ImageFormat::kTiff, "missing dimensions");
  const auto nxt = r.Read(entries + *count * entry_size, big ? 8 : 4);
  *next = nxt ? *nxt : 0;
  return Status::Ok();
}

Result<ImageHeader> ProbeTiff(std::span<const uint8_t> b, int max_pages) {
  ImageHeader h{ImageFormat::kTiff, b[0] == 'M', false, {}};
  ByteReader r(b, h.big_endian);
  const auto version = r.Read(2, 2);
  h.big_tiff = version && *version == 43;
  const auto first = h.big_tiff ? r.Read(8, 8) : r.Read(4, 4);
  if (!first) return Corrupt(ImageFormat::kTiff, "first IFD offset");
  std::unordered_set<uint64_t> seen;  // a crafted IFD chain may loop
  for (uint64_t ifd = *first; ifd != 0 && static_cast<int>(h.pages.size()) < max_pages;) {
    if (!seen.insert(ifd).second) break;
    PageHeader p;
    uint64_t next = 0;
    const Status s = ReadTiffPage(r, ifd, h.big_tiff, &p, &next);
    if (!s.ok()) {
      if (h.pages.empty()) return s;
      break;  // a damaged later page must not hide the readable first ones
    }
    h.pages.push_back(p);
    ifd = next;
  }
  if (h.pages.empty()) return Corrupt(ImageFormat::kTiff, "no image directory");
  return h;
}

Result<ImageHeader> ProbeWebp(std::span<const uint8_t> b) {
  ByteReader r(b, /*big_endian=*/false);
  PageHeader p;
  if (StartsWith(b, "VP8X", 4, 12) && b.size() >= 30) {
    p.channels = (b[20] & 0x10) ? 4 : 3;
    p.width = static_cast<int64_t>(*r.Read(24, 3)) + 1;
    p.height = static_cast<int64_t>(*r.Read(27, 3)) + 1;
  } else if (StartsWith(b, "VP8L", 4, 12) && b.size() >= 25 && b[20] == 0x2F) {
    const uint64_t bits = *r.Read(21, 4);
    p.width = static_cast<int64_t>(bits & 0x3FFF) + 1;
    p.height = static_cast<int64_t>((bits >> 14) & 0x3FFF) + 1;
    p.channels = ((bits >> 28) & 1) ? 4 : 3;
  } else if (StartsWith(b, "VP8 ", 4, 12) && b.size() >= 30 && b[23] == 0x9D && b[24] == 0x01 &&
             b[25] == 0x2A) {
    p.width = static_cast<int64_t>(*r.Read(26, 2) & 0x3FFF);
    p.height = static_cast<int64_t>(*r.Read(28, 2) & 0x3FFF);
    p.channels = 3;
  } else {
    return Corrupt(ImageFormat::kWebp, "VP8/VP8L/VP8X chunk");
  }
  p.bits_per_sample = 8;
  if (p.width == 0 || p.height == 0) return Corrupt(ImageFormat::kWebp, "dimensions");
  return ImageHeader{ImageFormat::kWebp, false, false, {p}};
}

}  // namespace

std::string_view ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kPng:
      return "PNG";
    case ImageFormat::kJpeg:
      return "JPEG";
    case ImageFormat::kBmp:
      return "BMP";
    case ImageFormat::kTiff:
      return "TIFF";
    case ImageFormat::kWebp:
      return "WebP";
  }
  return "unknown";
}

Result<ImageHeader> ProbeHeader(std::span<const uint8_t> bytes, int max_pages) {
  if (bytes.empty()) return InvalidArgument("empty file: 0 bytes");
  if (StartsWith(bytes, "\x89PNG\r\n\x1a\n", 8)) return ProbePng(bytes);
  if (StartsWith(bytes, "\xFF\xD8\xFF", 3)) return ProbeJpeg(bytes);
  if (StartsWith(bytes, "BM", 2)) return ProbeBmp(bytes);
  if (StartsWith(bytes, "II*\0", 4) || StartsWith(bytes, "MM\0*", 4) ||
      StartsWith(bytes, "II+\0", 4) || StartsWith(bytes, "MM\0+", 4)) {
    return ProbeTiff(bytes, max_pages);
  }
  if (StartsWith(bytes, "RIFF", 4) && StartsWith(bytes, "WEBP", 4, 8)) return ProbeWebp(bytes);
  return InvalidArgument(std::string(kUnsupportedImageMessage));
}

}  // namespace seghub::imaging
