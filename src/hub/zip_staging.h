// Staging for ZIP archives that are too large to hold in memory: each entry is written as a file
// into a staging folder beside the output ("<out>.staging-<random>"), and Commit() zips them with
// libzip into a temporary archive ("<out>.tmp-<random>") that is then renamed to the output.
// The destructor removes the staging folder and any unfinished temporary archive, so a failed or
// cancelled export leaves nothing behind.
// Threads: one ZipStaging belongs to one thread; it is not thread-safe. Commit() calls the
// progress callback on the calling thread and reads `cancelled` (which any thread may set).
// Ownership: ZipStaging owns its staging folder and temporary file; the caller owns the progress
// callback and the cancel flag, which must outlive Commit().
#ifndef SEGHUB_HUB_ZIP_STAGING_H_
#define SEGHUB_HUB_ZIP_STAGING_H_

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace seghub::hub {

class ZipStaging {
 public:
  // Called with the fraction (0..1) of the archive written so far.
  using ZipProgressFn = std::function<void(double)>;

  explicit ZipStaging(const std::filesystem::path& out_zip);
  ~ZipStaging();
  ZipStaging(const ZipStaging&) = delete;
  ZipStaging& operator=(const ZipStaging&) = delete;

  // Writes `bytes` to a staged file to be zipped as `entry` (a UTF-8 archive path). Entries are
  // zipped in the order added, except that `first` puts this one before all others. Images and
  // other compressed data should pass compress = false (stored, not deflated).
  Status Add(const std::string& entry, std::string_view bytes, bool compress, bool first = false);

  // Zips the staged entries into the temporary file and renames it to the output; returns the
  // archive's size in bytes. kCancelled when `cancelled` (may be null) is set while zipping.
  Result<int64_t> Commit(const ZipProgressFn& progress, const std::atomic<bool>* cancelled);

 private:
  struct Entry {
    std::string name;
    std::filesystem::path file;
    bool compress = true;
  };
  Status Zip(const ZipProgressFn& progress, const std::atomic<bool>* cancelled);

  std::filesystem::path out_, dir_, tmp_;
  std::vector<Entry> entries_;
};

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_ZIP_STAGING_H_
