// BlobSource: read access to content-addressed blobs, wherever they live. BlobStore reads its
// local folder; a worker on another machine reads through the API's signed blob URLs
// (hub::HttpBlobSource), so the job runner works the same with or without a shared filesystem.
#ifndef SEGHUB_STORAGE_BLOB_SOURCE_H_
#define SEGHUB_STORAGE_BLOB_SOURCE_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace seghub::storage {

class BlobSource {
 public:
  virtual ~BlobSource() = default;

  // The bytes stored under `key` (lowercase hex SHA-256 of them): kNotFound when absent,
  // kInvalidArgument for a malformed key; implementations may add kUnavailable (remote store
  // unreachable). Implementations are thread-safe: any thread may call Get concurrently.
  virtual Result<std::string> Get(std::string_view key) const = 0;
};

}  // namespace seghub::storage

#endif  // SEGHUB_STORAGE_BLOB_SOURCE_H_
