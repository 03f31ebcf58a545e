// Safetensors: reading and writing the .safetensors weight format (no framework dependency).
//
// Layout: 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON, then the data section.
// The JSON maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
// relative to the data section) plus an optional "__metadata__" string->string object.
//
// A file comes from outside the process (a user's model folder), so Parse() validates every
// length, offset and product against overflow and the real buffer size: a corrupt or truncated
// file yields kInvalidArgument with the reason, never a crash or an out-of-bounds read.
// Value type; thread-compatible (const methods may be called concurrently).
#ifndef SEGHUB_ENGINE_SAFETENSORS_H_
#define SEGHUB_ENGINE_SAFETENSORS_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/tensor.h"

namespace seghub::engine {

enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

std::string_view DTypeName(DType dtype);  // "F32", ... as spelled in the file
int64_t DTypeSize(DType dtype);           // bytes per element
Result<DType> ParseDType(std::string_view name);

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;
  uint64_t begin = 0;  // offset of the first byte in the data section
  uint64_t end = 0;    // one past the last byte
  uint64_t bytes() const { return end - begin; }
};

class SafetensorsFile {
 public:
  // Reads the whole file into memory and parses it. kNotFound if it does not exist.
  static Result<SafetensorsFile> Read(const std::filesystem::path& path);
  // Takes ownership of the complete file contents.
  static Result<SafetensorsFile> Parse(std::vector<uint8_t> contents);

  // Tensors in data order (ascending begin offset), which is the writer's order.
  const std::vector<SafetensorsEntry>& tensors() const { return entries_; }
  const SafetensorsEntry* Find(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Raw little-endian bytes of one entry of this file.
  std::span<const uint8_t> Data(const SafetensorsEntry& entry) const;

 private:
  std::vector<uint8_t> contents_;
  uint64_t data_start_ = 0;  // offset of the data section in contents_
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in entries_
  std::map<std::string, std::string> metadata_;
};

// One tensor to write; `data` must hold exactly NumElements(shape) * DTypeSize(dtype) bytes.
struct SafetensorsTensorView {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;
  std::span<const uint8_t> data;
};

// Serialises tensors in the given order (contiguous, no gaps, header padded with spaces to a
// multiple of 8 as the reference writer does). kInvalidArgument on duplicate names or a size that
// does not match the shape.
Result<std::vector<uint8_t>> SerializeSafetensors(
    const std::vector<SafetensorsTensorView>& tensors,
    const std::map<std::string, std::string>& metadata = {});

// Writes atomically (temporary file + rename) so a crash never leaves a truncated weights file.
Status WriteSafetensors(const std::filesystem::path& path,
                        const std::vector<SafetensorsTensorView>& tensors,
                        const std::map<std::string, std::string>& metadata = {});

}  // namespace seghub::engine

#endif  // SEGHUB_ENGINE_SAFETENSORS_H_
