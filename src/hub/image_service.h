// ImageService: a project's images (upload, list, read, delete, thumbnails) and their
// segmentation versions (model results and saved edits).
//
// Uploads are checked from the header before anything is stored (format, byte and pixel limits,
// the per-project image limit), so a corrupt or oversized file is reported per file and the
// others still go in. Bytes go to the content-addressed BlobStore (identical uploads are stored
// once); rows to the database. A saved edit is a new version; old versions are kept.
//
// Access: every call takes the calling user and checks the project role (see ProjectService):
// another user's image is kNotFound. Threading: thread-safe. Ownership: borrows everything.
#ifndef SEGHUB_HUB_IMAGE_SERVICE_H_
#define SEGHUB_HUB_IMAGE_SERVICE_H_

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "hub/project_service.h"
#include "imaging/decode.h"
#include "storage/blob_store.h"
#include "storage/database.h"

namespace seghub::hub {

struct SegmentationSummary {
  int64_t version = 0;
  int64_t polygon_count = 0;
  std::string model;
  double threshold = 0;
};

struct ImageInfo {
  std::string id;
  std::string project_id;
  std::string name;
  std::string blob_key;
  int64_t width = 0;
  int64_t height = 0;
  int64_t size_bytes = 0;
  std::string status;  // new | queued | processing | done | failed | cancelled
  std::string error;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  std::optional<SegmentationSummary> segmentation;  // the latest version
};

struct UploadFile {
  std::string name;
  std::string bytes;
};

struct UploadResult {
  std::vector<ImageInfo> images;
  std::vector<std::pair<std::string, std::string>> failed;  // file name, error
};

struct ImageListQuery {
  int page = 1;
  int per_page = 50;                // 1..500
  std::string sort = "created_at";  // name | created_at | status
  bool descending = false;
  std::string status;  // filter; empty = all
};

struct ImagePage {
  std::vector<ImageInfo> images;
  int64_t total = 0;
};

struct Segmentation {
  std::string image_id;
  int64_t version = 0;
  std::string source;  // model | edit
  std::string model;
  double threshold = 0;
  int64_t polygon_count = 0;
  nlohmann::json result;  // the Hub body: polygons, image_size, timings ...
  std::string created_by;
  int64_t created_at_ms = 0;
};

struct ImageServiceOptions {
  imaging::DecodeLimits limits;  // bytes and pixels per image
  int max_images_per_project = 10000;
  int max_files_per_upload = 100;
  std::filesystem::path derived_dir;  // thumbnails and previews (a cache; safe to delete)
};

class ImageService {
 public:
  ImageService(storage::Database* db, storage::BlobStore* blobs, ProjectService* projects,
               const Clock* clock, ImageServiceOptions options);

  // Editor role. Files that fail a check are listed in `failed`; the others are stored.
  Result<UploadResult> Upload(const std::string& user_id, const std::string& project_id,
                              std::vector<UploadFile> files);
  Result<ImagePage> List(const std::string& user_id, const std::string& project_id,
                         const ImageListQuery& query);
  Result<ImageInfo> Get(const std::string& user_id, const std::string& image_id);
  Status Delete(const std::string& user_id, const std::string& image_id);  // editor role
  // The original bytes and a content type guessed from the header.
  Result<std::pair<std::string, std::string>> ReadFile(const std::string& user_id,
                                                       const std::string& image_id);
  // JPEG, longest side 256 px (cached under derived_dir).
  Result<std::string> Thumbnail(const std::string& user_id, const std::string& image_id);
  // Something a browser shows at full size: the original for PNG/JPEG/BMP/WebP 8-bit, else a
  // PNG rendered for display. Returns bytes and content type.
  Result<std::pair<std::string, std::string>> Preview(const std::string& user_id,
                                                      const std::string& image_id);

  // version empty = latest. kNotFound when the image has none.
  Result<Segmentation> GetSegmentation(const std::string& user_id, const std::string& image_id,
                                       std::optional<int64_t> version);
  Result<std::vector<Segmentation>> ListVersions(const std::string& user_id,
                                                 const std::string& image_id);  // no results
  // Editor role. Validates and stores `polygons` as a new version with metrics recomputed;
  // kAborted ("conflict") when base_version is not the latest.
  Result<Segmentation> SaveEdit(const std::string& user_id, const std::string& image_id,
                                const nlohmann::json& polygons, int64_t base_version);

  // The image and the caller's role on its project (kNotFound when not visible).
  Result<std::pair<ImageInfo, Role>> Access(const std::string& user_id, const std::string& image_id,
                                            Role minimum);

  const ImageServiceOptions& options() const { return options_; }

 private:
  Result<ImageInfo> StoreOne(const std::string& project_id, UploadFile file);
  Result<std::string> Derived(const ImageInfo& image, const std::string& kind);

  storage::Database* db_;
  storage::BlobStore* blobs_;
  ProjectService* projects_;
  const Clock* clock_;
  ImageServiceOptions options_;
};

nlohmann::json ImageInfoToJson(const ImageInfo& image);
nlohmann::json SegmentationToJson(const Segmentation& segmentation, bool with_result);
std::string Iso8601(int64_t unix_ms);

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_IMAGE_SERVICE_H_
