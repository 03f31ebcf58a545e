#include "engine/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

namespace seghub::engine {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swapping");

// Refuse absurd headers before allocating for them (the reference implementation uses 100 MB).
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  int64_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::kF64, "F64", 8},   {DType::kF32, "F32", 4}, {DType::kF16, "F16", 2},
    {DType::kBF16, "BF16", 2}, {DType::kI64, "I64", 8}, {DType::kI32, "I32", 4},
    {DType::kI16, "I16", 2},   {DType::kI8, "I8", 1},   {DType::kU8, "U8", 1},
    {DType::kBool, "BOOL", 1},
};

Status Corrupt(const std::string& what) { return InvalidArgument("corrupt safetensors: " + what); }

// Checked a * b for non-negative values.
bool MulOverflows(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

Result<Shape> ParseShape(const std::string& name, const nlohmann::json& j) {
  if (!j.is_array()) return Corrupt("tensor '" + name + "': shape is not an array");
  Shape shape;
  for (const auto& d : j) {
    if (!d.is_number_unsigned()) {
      return Corrupt("tensor '" + name + "': shape has a non-integer or negative dimension");
    }
    const uint64_t v = d.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Corrupt("tensor '" + name + "': dimension too large");
    }
    shape.push_back(static_cast<int64_t>(v));
  }
  return shape;
}

Result<SafetensorsEntry> ParseEntry(const std::string& name, const nlohmann::json& j,
                                    uint64_t data_size) {
  if (!j.is_object()) return Corrupt("tensor '" + name + "' is not an object");
  auto dtype_it = j.find("dtype");
  auto shape_it = j.find("shape");
  auto offsets_it = j.find("data_offsets");
  if (dtype_it == j.end() || shape_it == j.end() || offsets_it == j.end()) {
    return Corrupt("tensor '" + name + "' lacks dtype, shape or data_offsets");
  }
  if (!dtype_it->is_string()) return Corrupt("tensor '" + name + "': dtype is not a string");
  SafetensorsEntry e;
  e.name = name;
  auto dtype = ParseDType(dtype_it->get<std::string>());
  if (!dtype.ok()) return Corrupt("tensor '" + name + "': " + dtype.status().message());
  e.dtype = *dtype;
  SEGHUB_ASSIGN_OR_RETURN(e.shape, ParseShape(name, *shape_it));
  const auto& off = *offsets_it;
  if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
      !off[1].is_number_unsigned()) {
    return Corrupt("tensor '" + name + "': data_offsets must be two non-negative integers");
  }
  e.begin = off[0].get<uint64_t>();
  e.end = off[1].get<uint64_t>();
  if (e.begin > e.end || e.end > data_size) {
    return Corrupt("tensor '" + name + "': data_offsets [" + std::to_string(e.begin) + ", " +
                   std::to_string(e.end) + ") outside the data section of " +
                   std::to_string(data_size) + " bytes");
  }
  uint64_t expected = static_cast<uint64_t>(DTypeSize(e.dtype));
  for (int64_t d : e.shape) {
    if (MulOverflows(expected, static_cast<uint64_t>(d), &expected)) {
      return Corrupt("tensor '" + name + "': element count overflows");
    }
  }
  if (expected != e.bytes()) {
    return Corrupt("tensor '" + name + "': shape " + ShapeToString(e.shape) + " of " +
                   std::string(DTypeName(e.dtype)) + " needs " + std::to_string(expected) +
                   " bytes, data_offsets give " + std::to_string(e.bytes()));
  }
  return e;
}

Result<std::map<std::string, std::string>> ParseMetadata(const nlohmann::json& j) {
  if (!j.is_object()) return Corrupt("__metadata__ is not an object");
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : j.items()) {
    if (!v.is_string()) return Corrupt("__metadata__ value '" + k + "' is not a string");
    out[k] = v.get<std::string>();
  }
  return out;
}

}  // namespace

std::string_view DTypeName(DType dtype) {
  for (const auto& d : kDTypes) {
    if (d.dtype == dtype) return d.name;
  }
  return "?";
}

int64_t DTypeSize(DType dtype) {
  for (const auto& d : kDTypes) {
    if (d.dtype == dtype) return d.size;
  }
  return 0;
}

Result<DType> ParseDType(std::string_view name) {
  for (const auto& d : kDTypes) {
    if (d.name == name) return d.dtype;
  }
  return InvalidArgument("unsupported dtype '" + std::string(name) + "'");
}

Result<SafetensorsFile> SafetensorsFile::Read(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFound("weights file not found: " + path.string());
  }
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return Internal("cannot stat " + path.string() + ": " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) return Internal("cannot open " + path.string());
  std::vector<uint8_t> contents(size);
  if (!in.read(reinterpret_cast<char*>(contents.data()), static_cast<std::streamsize>(size))) {
    return Internal("cannot read " + path.string());
  }
  auto parsed = Parse(std::move(contents));
  if (!parsed.ok()) {
    return Status(parsed.status().code(), path.string() + ": " + parsed.status().message());
  }
  return parsed;
}

Result<SafetensorsFile> SafetensorsFile::Parse(std::vector<uint8_t> contents) {
  if (contents.size() < 8) return Corrupt("file shorter than the 8-byte header length");
  uint64_t header_len = 0;
  std::memcpy(&header_len, contents.data(), 8);
  if (header_len > kMaxHeaderBytes || header_len > contents.size() - 8) {
    return Corrupt("header length " + std::to_string(header_len) + " exceeds the file size " +
                   std::to_string(contents.size()));
  }
  const char* header_begin = reinterpret_cast<const char*>(contents.data() + 8);
  nlohmann::json header = nlohmann::json::parse(header_begin, header_begin + header_len,
                                                /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) return Corrupt("header is not valid JSON");
  if (!header.is_object()) return Corrupt("header is not a JSON object");

  SafetensorsFile file;
  file.data_start_ = 8 + header_len;
  const uint64_t data_size = contents.size() - file.data_start_;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      SEGHUB_ASSIGN_OR_RETURN(file.metadata_, ParseMetadata(value));
      continue;
    }
    SEGHUB_ASSIGN_OR_RETURN(SafetensorsEntry entry, ParseEntry(name, value, data_size));
    file.entries_.push_back(std::move(entry));
  }
  // JSON key order is not meaningful (many libraries sort keys); data order is.
  std::sort(file.entries_.begin(), file.entries_.end(),
            [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  for (size_t i = 1; i < file.entries_.size(); ++i) {
    if (file.entries_[i].begin < file.entries_[i - 1].end) {
      return Corrupt("tensors '" + file.entries_[i - 1].name + "' and '" + file.entries_[i].name +
                     "' overlap");
    }
  }
  for (size_t i = 0; i < file.entries_.size(); ++i) file.index_[file.entries_[i].name] = i;
  file.contents_ = std::move(contents);
  return file;
}

const SafetensorsEntry* SafetensorsFile::Find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

std::span<const uint8_t> SafetensorsFile::Data(const SafetensorsEntry& entry) const {
  return {contents_.data() + data_start_ + entry.begin, static_cast<size_t>(entry.bytes())};
}

Result<std::vector<uint8_t>> SerializeSafetensors(
    const std::vector<SafetensorsTensorView>& tensors,
    const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    if (t.name == "__metadata__" || !names.insert(t.name).second) {
      return InvalidArgument("duplicate or reserved tensor name '" + t.name + "'");
    }
    const int64_t expected = NumElements(t.shape) * DTypeSize(t.dtype);
    if (expected < 0 || static_cast<uint64_t>(expected) != t.data.size()) {
      return InvalidArgument("tensor '" + t.name + "': " + std::to_string(t.data.size()) +
                             " bytes do not match shape " + ShapeToString(t.shape));
    }
    header[t.name] = {{"dtype", DTypeName(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::vector<uint8_t> out(8 + text.size() + offset);
  const uint64_t header_len = text.size();
  std::memcpy(out.data(), &header_len, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  uint8_t* dst = out.data() + 8 + text.size();
  for (const auto& t : tensors) {
    if (!t.data.empty()) std::memcpy(dst, t.data.data(), t.data.size());
    dst += t.data.size();
  }
  return out;
}

Status WriteSafetensors(const std::filesystem::path& path,
                        const std::vector<SafetensorsTensorView>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  SEGHUB_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, SerializeSafetensors(tensors, metadata));
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Internal("cannot create " + tmp.string());
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) return Internal("cannot write " + tmp.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Internal("cannot rename " + tmp.string() + ": " + ec.message());
  return Status::Ok();
}

}  // namespace seghub::engine
