#include "imaging/imagej_roi.h"

#include <zip.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

namespace seghub::imaging {
namespace {

// Offsets in the 64-byte header and in header2 (ij.io.RoiDecoder's constants).
constexpr size_t kHeaderSize = 64;
constexpr size_t kHeader2Size = 64;
constexpr size_t kVersionOffset = 4;
constexpr size_t kTypeOffset = 6;
constexpr size_t kTopOffset = 8;
constexpr size_t kLeftOffset = 10;
constexpr size_t kBottomOffset = 12;
constexpr size_t kRightOffset = 14;
constexpr size_t kCountOffset = 16;
constexpr size_t kStrokeColorOffset = 40;
constexpr size_t kOptionsOffset = 50;
constexpr size_t kHeader2OffsetOffset = 60;
constexpr size_t kNameOffsetOffset = 16;  // within header2
constexpr size_t kNameLengthOffset = 20;  // within header2
constexpr uint32_t kHoleColor = 0xFFFF0000u;
constexpr size_t kMaxEntryBytes = 16u << 20;
constexpr int64_t kMaxEntries = 100000;

void PutU16(std::vector<uint8_t>* b, size_t at, int value) {
  (*b)[at] = static_cast<uint8_t>((value >> 8) & 0xff);
  (*b)[at + 1] = static_cast<uint8_t>(value & 0xff);
}
void PutU32(std::vector<uint8_t>* b, size_t at, uint32_t value) {
  for (int k = 0; k < 4; ++k) (*b)[at + k] = static_cast<uint8_t>(value >> (24 - 8 * k));
}
void PutFloat(std::vector<uint8_t>* b, size_t at, float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  PutU32(b, at, bits);
}
int GetU16(const std::vector<uint8_t>& b, size_t at) { return (b[at] << 8) | b[at + 1]; }
int GetS16(const std::vector<uint8_t>& b, size_t at) {
  return static_cast<int16_t>(static_cast<uint16_t>(GetU16(b, at)));
}
uint32_t GetU32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) |
         uint32_t{b[at + 3]};
}
float GetFloat(const std::vector<uint8_t>& b, size_t at) {
  const uint32_t bits = GetU32(b, at);
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

// UTF-8 -> UTF-16 code units; malformed bytes become U+FFFD rather than failing an export.
std::vector<uint16_t> ToUtf16(const std::string& text) {
  std::vector<uint16_t> out;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<uint8_t>(text[i]);
    const int extra = c < 0x80         ? 0
                      : (c >> 5) == 6  ? 1
                      : (c >> 4) == 14 ? 2
                      : (c >> 3) == 30 ? 3
                                       : -1;
    uint32_t cp = extra == 0 ? c : extra == 1 ? (c & 0x1f) : extra == 2 ? (c & 0x0f) : (c & 0x07);
    bool ok = extra >= 0 && i + extra < text.size();
    for (int k = 1; ok && k <= extra; ++k) {
      const auto cc = static_cast<uint8_t>(text[i + k]);
      ok = (cc & 0xc0) == 0x80;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (!ok) {
      out.push_back(0xfffd);
      ++i;
      continue;
    }
    i += extra + 1;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<uint16_t>(0xd800 + (cp >> 10)));
      out.push_back(static_cast<uint16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      out.push_back(static_cast<uint16_t>(cp));
    }
  }
  return out;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

std::string FromUtf16(const std::vector<uint16_t>& units) {
  std::string out;
  for (size_t i = 0; i < units.size(); ++i) {
    uint32_t cp = units[i];
    if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < units.size() && units[i + 1] >= 0xdc00 &&
        units[i + 1] < 0xe000) {
      cp = 0x10000 + ((cp - 0xd800) << 10) + (units[++i] - 0xdc00);
    }
    AppendUtf8(cp, &out);
  }
  return out;
}

// Zip entry names must not create folders or escape the archive.
std::string SafeEntryName(const std::string& name) {
  std::string out = name.empty() ? "roi" : name;
  for (char& c : out) {
    if (c == '/' || c == '\\' || c == ':') c = '_';
  }
  return out + ".roi";
}

struct ZipDiscard {
  void operator()(zip_t* zip) const { zip_discard(zip); }
};
struct SourceFree {
  void operator()(zip_source_t* source) const { zip_source_free(source); }
};

std::string ZipErrorText(zip_error_t* error) {
  std::string text = zip_error_strerror(error);
  zip_error_fini(error);
  return text;
}

}  // namespace

Result<std::vector<uint8_t>> EncodeImageJRoi(const ImageJRoi& roi) {
  const size_t n = roi.points.size();
  if (n < 3) return InvalidArgument("an ImageJ polygon ROI needs at least 3 points");
  if (n > 65535) return InvalidArgument("an ImageJ polygon ROI holds at most 65535 points");
  float min_x = roi.points[0].x, max_x = min_x, min_y = roi.points[0].y, max_y = min_y;
  for (const cv::Point2f& p : roi.points) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) {
      return InvalidArgument("non-finite ROI coordinate");
    }
    min_x = std::min(min_x, p.x);
    max_x = std::max(max_x, p.x);
    min_y = std::min(min_y, p.y);
    max_y = std::max(max_y, p.y);
  }
  // Integer bounds: ImageJ's getBounds() floors the origin of a float polygon.
  const int left = static_cast<int>(std::floor(roi.sub_pixel ? min_x : std::round(min_x)));
  const int top = static_cast<int>(std::floor(roi.sub_pixel ? min_y : std::round(min_y)));
  const int right = static_cast<int>(std::ceil(roi.sub_pixel ? max_x : std::round(max_x)));
  const int bottom = static_cast<int>(std::ceil(roi.sub_pixel ? max_y : std::round(max_y)));
  if (left < -32768 || top < -32768 || right > 32767 || bottom > 32767) {
    return InvalidArgument("ROI coordinates exceed ImageJ's 16-bit range");
  }
  const std::vector<uint16_t> name = ToUtf16(roi.name);
  const size_t coords_size = n * 4 + (roi.sub_pixel ? n * 8 : 0);
  const size_t header2 = kHeaderSize + coords_size;
  std::vector<uint8_t> b(header2 + kHeader2Size + name.size() * 2, 0);
  std::memcpy(b.data(), "Iout", 4);
  PutU16(&b, kVersionOffset, kImageJRoiVersion);
  b[kTypeOffset] = static_cast<uint8_t>(kImageJPolygonType);
  PutU16(&b, kTopOffset, top);
  PutU16(&b, kLeftOffset, left);
  PutU16(&b, kBottomOffset, bottom);
  PutU16(&b, kRightOffset, right);
  PutU16(&b, kCountOffset, static_cast<int>(n));
  PutU32(&b, kStrokeColorOffset, roi.stroke_color);
  PutU16(&b, kOptionsOffset, roi.sub_pixel ? kImageJSubPixelOption : 0);
  PutU32(&b, kHeader2OffsetOffset, static_cast<uint32_t>(header2));
  for (size_t i = 0; i < n; ++i) {
    PutU16(&b, kHeaderSize + 2 * i, static_cast<int>(std::lround(roi.points[i].x)) - left);
    PutU16(&b, kHeaderSize + 2 * (n + i), static_cast<int>(std::lround(roi.points[i].y)) - top);
    if (roi.sub_pixel) {
      PutFloat(&b, kHeaderSize + 4 * n + 4 * i, roi.points[i].x);
      PutFloat(&b, kHeaderSize + 8 * n + 4 * i, roi.points[i].y);
    }
  }
  PutU32(&b, header2 + kNameOffsetOffset, static_cast<uint32_t>(header2 + kHeader2Size));
  PutU32(&b, header2 + kNameLengthOffset, static_cast<uint32_t>(name.size()));
  for (size_t i = 0; i < name.size(); ++i) PutU16(&b, header2 + kHeader2Size + 2 * i, name[i]);
  return b;
}

Result<ImageJRoi> DecodeImageJRoi(const std::vector<uint8_t>& b) {
  if (b.size() < kHeaderSize || std::memcmp(b.data(), "Iout", 4) != 0) {
    return InvalidArgument("not an ImageJ ROI (no \"Iout\" header)");
  }
  ImageJRoi roi;
  roi.type = b[kTypeOffset];
  if (roi.type != 0 && roi.type != 7 && roi.type != 8) {
    return Unimplemented("ImageJ ROI type " + std::to_string(roi.type) + " is not a polygon");
  }
  const int version = GetU16(b, kVersionOffset);
  const size_t n = static_cast<size_t>(GetU16(b, kCountOffset));
  const int left = GetS16(b, kLeftOffset), top = GetS16(b, kTopOffset);
  const int options = GetU16(b, kOptionsOffset);
  roi.sub_pixel = version >= 222 && (options & kImageJSubPixelOption) != 0;
  roi.stroke_color = GetU32(b, kStrokeColorOffset);
  if (b.size() < kHeaderSize + n * (roi.sub_pixel ? 12 : 4)) {
    return InvalidArgument("ImageJ ROI truncated in its coordinates");
  }
  roi.points.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (roi.sub_pixel) {
      roi.points[i] = {GetFloat(b, kHeaderSize + 4 * n + 4 * i),
                       GetFloat(b, kHeaderSize + 8 * n + 4 * i)};
    } else {
      roi.points[i] = {static_cast<float>(left + GetS16(b, kHeaderSize + 2 * i)),
                       static_cast<float>(top + GetS16(b, kHeaderSize + 2 * (n + i)))};
    }
  }
  const size_t header2 = GetU32(b, kHeader2OffsetOffset);
  if (version >= 218 && header2 > 0 && header2 + kHeader2Size <= b.size()) {
    const size_t name_offset = GetU32(b, header2 + kNameOffsetOffset);
    const size_t name_length = GetU32(b, header2 + kNameLengthOffset);
    if (name_length > 0 && name_offset + 2 * name_length <= b.size() && name_offset > 0) {
      std::vector<uint16_t> units(name_length);
      for (size_t i = 0; i < name_length; ++i) units[i] = GetU16(b, name_offset + 2 * i);
      roi.name = FromUtf16(units);
    }
  }
  return roi;
}

std::vector<ImageJRoi> RoisFromPolygons(const std::vector<Polygon>& polygons,
                                        const ImageJRoiOptions& options) {
  std::vector<ImageJRoi> rois;
  rois.reserve(polygons.size());
  std::vector<std::pair<int, std::string>> external_names;  // id -> name
  std::vector<std::pair<int, int>> hole_counts;             // parent id -> holes so far
  for (const Polygon& polygon : polygons) {
    ImageJRoi roi;
    roi.points = polygon.points;
    roi.sub_pixel = options.sub_pixel;
    char id[16];
    std::snprintf(id, sizeof(id), "%04d", polygon.id);
    if (polygon.type == PolygonType::kExternal || !polygon.parent_id) {
      roi.name = polygon.class_name + "-" + id;
      external_names.emplace_back(polygon.id, roi.name);
    } else {
      const int parent = *polygon.parent_id;
      auto named = std::find_if(external_names.begin(), external_names.end(),
                                [&](const auto& e) { return e.first == parent; });
      std::string parent_name = named != external_names.end() ? named->second : "";
      if (parent_name.empty()) {
        std::snprintf(id, sizeof(id), "%04d", parent);
        parent_name = polygon.class_name + "-" + id;
      }
      auto count = std::find_if(hole_counts.begin(), hole_counts.end(),
                                [&](const auto& e) { return e.first == parent; });
      if (count == hole_counts.end()) count = hole_counts.insert(hole_counts.end(), {parent, 0});
      roi.name = parent_name + "-hole-" + std::to_string(++count->second);
      roi.stroke_color = kHoleColor;
    }
    rois.push_back(std::move(roi));
  }
  return rois;
}

Result<std::vector<uint8_t>> EncodeImageJRoiZip(const std::vector<Polygon>& polygons,
                                                const ImageJRoiOptions& options) {
  if (polygons.empty()) {
    // libzip writes nothing for an empty archive; an empty ROI set is still a valid zip: a
    // lone end-of-central-directory record.
    std::vector<uint8_t> empty(22, 0);
    std::memcpy(empty.data(), "PK\x05\x06", 4);
    return empty;
  }
  const std::vector<ImageJRoi> rois = RoisFromPolygons(polygons, options);
  // libzip reads the record buffers at zip_close, so they must outlive the archive.
  std::vector<std::vector<uint8_t>> records;
  records.reserve(rois.size());
  for (const ImageJRoi& roi : rois) {
    auto record = EncodeImageJRoi(roi);
    if (!record.ok())
      return Status(record.status().code(), roi.name + ": " + record.status().message());
    records.push_back(std::move(record).value());
  }
  zip_error_t error;
  zip_error_init(&error);
  std::unique_ptr<zip_source_t, SourceFree> sink(zip_source_buffer_create(nullptr, 0, 0, &error));
  if (!sink) return Internal("libzip: " + ZipErrorText(&error));
  zip_t* archive = zip_open_from_source(sink.get(), ZIP_TRUNCATE, &error);
  if (archive == nullptr) return Internal("libzip: " + ZipErrorText(&error));
  zip_source_keep(sink.get());  // the archive releases its reference at close; we read after
  for (size_t i = 0; i < rois.size(); ++i) {
    zip_source_t* entry = zip_source_buffer(archive, records[i].data(), records[i].size(), 0);
    const zip_int64_t index =
        entry ? zip_file_add(archive, SafeEntryName(rois[i].name).c_str(), entry, ZIP_FL_ENC_UTF_8)
              : -1;
    if (index < 0) {
      if (entry) zip_source_free(entry);
      const std::string text = zip_strerror(archive);
      zip_discard(archive);
      return Internal("libzip: " + text);
    }
    zip_file_set_mtime(archive, static_cast<zip_uint64_t>(index), 946684800, 0);  // 2000-01-01
  }
  if (zip_close(archive) != 0) {
    const std::string text = zip_strerror(archive);
    zip_discard(archive);
    return Internal("libzip: " + text);
  }
  std::vector<uint8_t> bytes;
  if (zip_source_open(sink.get()) != 0) return Internal("libzip: cannot reopen the zip buffer");
  zip_source_seek(sink.get(), 0, SEEK_END);
  const zip_int64_t size = zip_source_tell(sink.get());
  zip_source_seek(sink.get(), 0, SEEK_SET);
  bytes.resize(size > 0 ? static_cast<size_t>(size) : 0);
  const zip_int64_t read =
      bytes.empty() ? 0 : zip_source_read(sink.get(), bytes.data(), bytes.size());
  zip_source_close(sink.get());
  if (read != static_cast<zip_int64_t>(bytes.size())) return Internal("libzip: short read");
  return bytes;
}

Result<std::vector<ImageJRoiEntry>> DecodeImageJRoiZip(const std::vector<uint8_t>& zip_bytes) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(zip_bytes.data(), zip_bytes.size(), 0, &error);
  if (source == nullptr) return Internal("libzip: " + ZipErrorText(&error));
  zip_t* raw = zip_open_from_source(source, ZIP_RDONLY, &error);
  if (raw == nullptr) {
    zip_source_free(source);
    return InvalidArgument("not a zip archive: " + ZipErrorText(&error));
  }
  std::unique_ptr<zip_t, ZipDiscard> archive(raw);  // discarding also frees the source
  const zip_int64_t count = zip_get_num_entries(raw, 0);
  if (count > kMaxEntries) return PayloadTooLarge("ROI zip has too many entries");
  std::vector<ImageJRoiEntry> out;
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (zip_stat_index(raw, i, 0, &stat) != 0) return InvalidArgument(zip_strerror(raw));
    if (stat.size > kMaxEntryBytes) return PayloadTooLarge("ROI zip entry over 16 MiB");
    std::vector<uint8_t> record(stat.size);
    zip_file_t* file = zip_fopen_index(raw, i, 0);
    if (file == nullptr) return InvalidArgument(zip_strerror(raw));
    const zip_int64_t read = record.empty() ? 0 : zip_fread(file, record.data(), record.size());
    zip_fclose(file);
    if (read != static_cast<zip_int64_t>(record.size()))
      return InvalidArgument("corrupt zip entry");
    ImageJRoiEntry entry;
    entry.entry_name = stat.name ? stat.name : "";
    SEGHUB_ASSIGN_OR_RETURN(entry.roi, DecodeImageJRoi(record));
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace seghub::imaging
