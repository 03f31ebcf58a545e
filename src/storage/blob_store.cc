#include "storage/blob_store.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

namespace seghub::storage {
namespace fs = std::filesystem;
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// fsync on a directory makes a rename into it durable. Best effort: some filesystems refuse.
void SyncDirectory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// A temp file name unique across threads and processes.
std::string TempName(std::string_view key) {
  static std::atomic<uint64_t> counter{0};
  return std::string(key.substr(0, 16)) + "." + std::to_string(::getpid()) + "." +
         std::to_string(counter.fetch_add(1)) + ".tmp";
}

}  // namespace

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof(digest));
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

bool IsValidBlobKey(std::string_view key) {
  if (key.size() != 2 * crypto_hash_sha256_BYTES) return false;
  for (char c : key) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<std::unique_ptr<BlobStore>> BlobStore::Open(fs::path root) {
  std::error_code ec;
  fs::create_directories(root / "tmp", ec);
  if (ec) {
    return Unavailable("cannot create blob store at '" + root.string() + "': " + ec.message());
  }
  return std::unique_ptr<BlobStore>(new BlobStore(std::move(root)));
}

Result<fs::path> BlobStore::PathFor(std::string_view key) const {
  if (!IsValidBlobKey(key)) {
    return InvalidArgument("malformed blob key (want 64 lowercase hex digits)");
  }
  std::string k(key);
  return root_ / k.substr(0, 2) / k.substr(2, 2) / k;
}

Result<std::string> BlobStore::Put(std::string_view bytes) {
  std::string key = Sha256Hex(bytes);
  SEGHUB_ASSIGN_OR_RETURN(fs::path final_path, PathFor(key));
  std::error_code ec;
  if (fs::exists(final_path, ec)) return key;  // same content already stored
  const fs::path tmp = root_ / "tmp" / TempName(key);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return Unavailable("blob store: cannot create " + tmp.string() + ": " + ErrnoText(errno));
  const bool written = WriteAll(fd, bytes) && ::fsync(fd) == 0;
  const int write_errno = errno;
  ::close(fd);
  if (!written) {
    fs::remove(tmp, ec);
    return Unavailable("blob store: cannot write " + tmp.string() + ": " + ErrnoText(write_errno));
  }
  fs::create_directories(final_path.parent_path(), ec);
  // rename() is atomic: readers see the whole blob or none. A concurrent Put of the same content
  // renames identical bytes over it, which is harmless.
  if (ec || ::rename(tmp.c_str(), final_path.c_str()) != 0) {
    const std::string why = ec ? ec.message() : ErrnoText(errno);
    fs::remove(tmp, ec);
    return Unavailable("blob store: cannot store " + final_path.string() + ": " + why);
  }
  SyncDirectory(final_path.parent_path());
  return key;
}

Result<std::string> BlobStore::Get(std::string_view key) const {
  SEGHUB_ASSIGN_OR_RETURN(fs::path path, PathFor(key));
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return NotFound("blob " + std::string(key) + " not found");
    return Unavailable("blob store: cannot read " + path.string() + ": " + ErrnoText(errno));
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Unavailable("blob store: read error on " + path.string());
  return bytes;
}

bool BlobStore::Contains(std::string_view key) const {
  Result<fs::path> path = PathFor(key);
  std::error_code ec;
  return path.ok() && fs::is_regular_file(*path, ec);
}

Status BlobStore::Remove(std::string_view key) {
  SEGHUB_ASSIGN_OR_RETURN(fs::path path, PathFor(key));
  std::error_code ec;
  if (!fs::remove(path, ec)) {
    if (ec) return Unavailable("blob store: cannot remove " + path.string() + ": " + ec.message());
    return NotFound("blob " + std::string(key) + " not found");
  }
  return Status::Ok();
}

int64_t BlobStore::total_bytes() const {
  int64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().parent_path() == root_ / "tmp") continue;
    if (it->is_regular_file(ec) && IsValidBlobKey(it->path().filename().string())) {
      total += static_cast<int64_t>(it->file_size(ec));
    }
  }
  return total;
}

}  // namespace seghub::storage
