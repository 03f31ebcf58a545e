// BlobStore: content-addressed files on disk (images, masks, exports), keyed by the lowercase
// hex SHA-256 of their bytes. Identical content is stored once. Layout: <root>/ab/cd/<key>, with
// <root>/tmp for writes in progress (a crash can leave a stray temp file there, never a torn
// blob: a blob appears only by an atomic rename after fsync).
//
// Threading: thread-safe, and safe with several processes sharing one root; no state is kept in
// memory besides the root path.
#ifndef SEGHUB_STORAGE_BLOB_STORE_H_
#define SEGHUB_STORAGE_BLOB_STORE_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/blob_source.h"

namespace seghub::storage {

// Lowercase hex SHA-256 of `bytes` (64 characters). Any thread.
std::string Sha256Hex(std::string_view bytes);

// True for a well-formed key: exactly 64 lowercase hex digits. Any thread.
bool IsValidBlobKey(std::string_view key);

class BlobStore : public BlobSource {
 public:
  // Creates `root` and `root/tmp` when missing. kUnavailable when they cannot be created.
  static Result<std::unique_ptr<BlobStore>> Open(std::filesystem::path root);

  // Stores `bytes` (once per distinct content) and returns its key. Any thread.
  Result<std::string> Put(std::string_view bytes);
  // The bytes stored under `key`: kNotFound when absent, kInvalidArgument for a malformed key.
  // Any thread.
  Result<std::string> Get(std::string_view key) const override;
  // False for an absent or malformed key. Any thread.
  bool Contains(std::string_view key) const;
  // Deletes the blob: kNotFound when absent, kInvalidArgument for a malformed key. Any thread.
  Status Remove(std::string_view key);
  // Where the blob for `key` lives (whether or not it exists); kInvalidArgument for a malformed
  // key. Any thread.
  Result<std::filesystem::path> PathFor(std::string_view key) const;
  // Sum of the sizes of all stored blobs (walks the tree: for admin/metrics, not hot paths).
  // Any thread.
  int64_t total_bytes() const;

  const std::filesystem::path& root() const { return root_; }

 private:
  explicit BlobStore(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path root_;
};

}  // namespace seghub::storage

#endif  // SEGHUB_STORAGE_BLOB_STORE_H_
