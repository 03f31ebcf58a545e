#include "hub/image_service.h"

#include <ctime>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <span>

#include "hub/ids.h"
#include "imaging/header_probe.h"
#include "imaging/raster_exports.h"

namespace seghub::hub {
namespace {

using storage::Row;

constexpr const char* kImageColumns =
    "i.id, i.project_id, i.name, i.blob_key, i.width, i.height, i.size_bytes, i.status, "
    "COALESCE(i.error, ''), i.created_at, i.updated_at, s.version, s.polygon_count, "
    "COALESCE(s.model, ''), COALESCE(s.threshold, 0)";
// The latest segmentation version of each image, joined for the list and detail views.
constexpr const char* kImageFrom =
    " FROM images i LEFT JOIN segmentations s ON s.image_id = i.id AND s.version = "
    "(SELECT MAX(version) FROM segmentations m WHERE m.image_id = i.id)";

ImageInfo ImageFromRow(const Row& r) {
  ImageInfo image;
  image.id = r.Text(0);
  image.project_id = r.Text(1);
  image.name = r.Text(2);
  image.blob_key = r.Text(3);
  image.width = r.Int(4);
  image.height = r.Int(5);
  image.size_bytes = r.Int(6);
  image.status = r.Text(7);
  image.error = r.Text(8);
  image.created_at_ms = r.Int(9);
  image.updated_at_ms = r.Int(10);
  if (!r.IsNull(11)) {
    image.segmentation = SegmentationSummary{r.Int(11), r.Int(12), r.Text(13), r.Double(14)};
  }
  return image;
}

std::string ContentTypeOf(imaging::ImageFormat format) {
  switch (format) {
    case imaging::ImageFormat::kPng:
      return "image/png";
    case imaging::ImageFormat::kJpeg:
      return "image/jpeg";
    case imaging::ImageFormat::kBmp:
      return "image/bmp";
    case imaging::ImageFormat::kTiff:
      return "image/tiff";
    case imaging::ImageFormat::kWebp:
      return "image/webp";
  }
  return "application/octet-stream";
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A file name as shown and exported: no folders, no control characters.
std::string CleanFileName(std::string_view name) {
  size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name = name.substr(slash + 1);
  std::string out;
  for (char ch : name) {
    if (static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f) out += ch;
  }
  return out;
}

}  // namespace

std::string Iso8601(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buf, static_cast<int>(unix_ms % 1000));
  return out;
}

nlohmann::json ImageInfoToJson(const ImageInfo& image) {
  nlohmann::json j = {{"id", image.id},
                      {"project_id", image.project_id},
                      {"name", image.name},
                      {"width", image.width},
                      {"height", image.height},
                      {"size_bytes", image.size_bytes},
                      {"status", image.status},
                      {"created_at", Iso8601(image.created_at_ms)},
                      {"updated_at", Iso8601(image.updated_at_ms)}};
  if (!image.error.empty()) j["error"] = image.error;
  if (image.segmentation) {
    j["segmentation"] = {{"version", image.segmentation->version},
                         {"polygon_count", image.segmentation->polygon_count},
                         {"model", image.segmentation->model},
                         {"threshold", image.segmentation->threshold}};
  }
  return j;
}

ImageService::ImageService(storage::Database* db, storage::BlobStore* blobs,
                           ProjectService* projects, const Clock* clock,
                           ImageServiceOptions options)
    : db_(db),
      blobs_(blobs),
      projects_(projects),
      clock_(clock ? clock : SystemClock::Get()),
      options_(std::move(options)) {}

Result<ImageInfo> ImageService::StoreOne(const std::string& project_id, UploadFile file) {
  SEGHUB_ASSIGN_OR_RETURN(std::string name, ValidateName(CleanFileName(file.name), "file name"));
  if (file.bytes.empty()) return InvalidArgument("the file is empty");
  if (file.bytes.size() > options_.limits.max_bytes) {
    return PayloadTooLarge("the file has " + std::to_string(file.bytes.size()) +
                           " bytes; the limit is " + std::to_string(options_.limits.max_bytes));
  }
  SEGHUB_ASSIGN_OR_RETURN(imaging::ImageHeader header, imaging::ProbeHeader(Bytes(file.bytes)));
  const imaging::PageHeader& page = header.first();
  if (page.width <= 0 || page.height <= 0) return InvalidArgument("the image has no pixels");
  if (page.width * page.height > options_.limits.max_pixels) {
    return PayloadTooLarge("the image has " + std::to_string(page.width) + "x" +
                           std::to_string(page.height) + " pixels; the limit is " +
                           std::to_string(options_.limits.max_pixels));
  }
  SEGHUB_ASSIGN_OR_RETURN(std::string key, blobs_->Put(file.bytes));
  ImageInfo image;
  image.id = NewId();
  image.project_id = project_id;
  image.name = name;
  image.blob_key = key;
  image.width = page.width;
  image.height = page.height;
  image.size_bytes = static_cast<int64_t>(file.bytes.size());
  image.status = "new";
  image.created_at_ms = image.updated_at_ms = clock_->NowUnixMs();
  SEGHUB_RETURN_IF_ERROR(db_->Transact([&](storage::Connection& c) -> Status {
    SEGHUB_ASSIGN_OR_RETURN(
        storage::QueryResult n,
        c.Query("SELECT COUNT(*) FROM images WHERE project_id = ?", {project_id}));
    if (n.rows[0].Int(0) >= options_.max_images_per_project) {
      return ResourceExhausted("the project already has " +
                               std::to_string(options_.max_images_per_project) +
                               " images, its limit");
    }
    SEGHUB_RETURN_IF_ERROR(
        c.Execute("INSERT INTO images (id, project_id, name, blob_key, size_bytes, width, height, "
                  "status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'new', ?, ?)",
                  {image.id, project_id, image.name, key, image.size_bytes, image.width,
                   image.height, image.created_at_ms, image.updated_at_ms})
            .status());
    return c
        .Execute("UPDATE projects SET updated_at = ? WHERE id = ?",
                 {image.updated_at_ms, project_id})
        .status();
  }));
  return image;
}

Result<UploadResult> ImageService::Upload(const std::string& user_id, const std::string& project_id,
                                          std::vector<UploadFile> files) {
  SEGHUB_RETURN_IF_ERROR(projects_->Require(user_id, project_id, Role::kEditor).status());
  if (files.empty()) return InvalidArgument("no files: send them as multipart field \"files\"");
  if (static_cast<int>(files.size()) > options_.max_files_per_upload) {
    return InvalidArgument("at most " + std::to_string(options_.max_files_per_upload) +
                           " files per upload; got " + std::to_string(files.size()));
  }
  UploadResult out;
  for (UploadFile& file : files) {
    std::string name = file.name;
    Result<ImageInfo> stored = StoreOne(project_id, std::move(file));
    if (stored.ok()) {
      out.images.push_back(std::move(stored).value());
    } else {
      out.failed.emplace_back(name, stored.status().message());
    }
  }
  return out;
}

Result<ImagePage> ImageService::List(const std::string& user_id, const std::string& project_id,
                                     const ImageListQuery& q) {
  SEGHUB_RETURN_IF_ERROR(projects_->RoleOf(user_id, project_id).status());
  if (q.page < 1) return InvalidArgument("page must be >= 1");
  if (q.per_page < 1 || q.per_page > 500) return InvalidArgument("per_page must be in 1..500");
  std::string order;
  if (q.sort == "name") {
    order = "i.name";
  } else if (q.sort == "created_at") {
    order = "i.created_at";
  } else if (q.sort == "status") {
    order = "i.status";
  } else {
    return InvalidArgument("sort must be name, created_at or status");
  }
  std::string where = " WHERE i.project_id = ?";
  storage::SqlParams params = {project_id};
  if (!q.status.empty()) {
    where += " AND i.status = ?";
    params.push_back(q.status);
  }
  ImagePage page;
  SEGHUB_ASSIGN_OR_RETURN(storage::QueryResult count,
                          db_->Query("SELECT COUNT(*) FROM images i" + where, params));
  page.total = count.rows[0].Int(0);
  std::string dir = q.descending ? " DESC" : " ASC";
  params.push_back(int64_t{q.per_page});
  params.push_back(int64_t{(q.page - 1) * q.per_page});
  SEGHUB_ASSIGN_OR_RETURN(
      storage::QueryResult rows,
      db_->Query(std::string("SELECT ") + kImageColumns + kImageFrom + where + " ORDER BY " +
                     order + dir + ", i.id" + dir + " LIMIT ? OFFSET ?",
                 params));
  for (const Row& r : rows.rows) page.images.push_back(ImageFromRow(r));
  return page;
}

Result<std::pair<ImageInfo, Role>> ImageService::Access(const std::string& user_id,
                                                        const std::string& image_id, Role minimum) {
  SEGHUB_ASSIGN_OR_RETURN(
      storage::QueryResult rows,
      db_->Query(std::string("SELECT ") + kImageColumns + kImageFrom + " WHERE i.id = ?",
                 {image_id}));
  if (rows.empty()) return NotFound("image not found");
  ImageInfo image = ImageFromRow(rows.rows[0]);
  Result<Role> role = projects_->Require(user_id, image.project_id, minimum);
  if (!role.ok()) {
    // Never reveal that the image exists in someone else's project.
    if (role.status().code() == StatusCode::kNotFound) return NotFound("image not found");
    return role.status();
  }
  return std::make_pair(std::move(image), *role);
}

Result<ImageInfo> ImageService::Get(const std::string& user_id, const std::string& image_id) {
  SEGHUB_ASSIGN_OR_RETURN(auto access, Access(user_id, image_id, Role::kViewer));
  return access.first;
}

Status ImageService::Delete(const std::string& user_id, const std::string& image_id) {
  SEGHUB_RETURN_IF_ERROR(Access(user_id, image_id, Role::kEditor).status());
  // The blob stays: other images may share its content, and exports may still read it.
  return db_->Execute("DELETE FROM images WHERE id = ?", {image_id}).status();
}

Result<std::pair<std::string, std::string>> ImageService::ReadFile(const std::string& user_id,
                                                                   const std::string& image_id) {
  SEGHUB_ASSIGN_OR_RETURN(auto access, Access(user_id, image_id, Role::kViewer));
  SEGHUB_ASSIGN_OR_RETURN(std::string bytes, blobs_->Get(access.first.blob_key));
  Result<imaging::ImageHeader> header = imaging::ProbeHeader(Bytes(bytes));
  std::string type = header.ok() ? ContentTypeOf(header->format) : "application/octet-stream";
  return std::make_pair(std::move(bytes), type);
}

Result<std::string> ImageService::Derived(const ImageInfo& image, const std::string& kind) {
  std::filesystem::path path = options_.derived_dir / (image.blob_key + "." + kind);
  std::ifstream in(path, std::ios::binary);
  if (in) return std::string(std::istreambuf_iterator<char>(in), {});
  SEGHUB_ASSIGN_OR_RETURN(std::string bytes, blobs_->Get(image.blob_key));
  SEGHUB_ASSIGN_OR_RETURN(imaging::DecodedImage decoded,
                          imaging::DecodeImage(Bytes(bytes), options_.limits));
  SEGHUB_ASSIGN_OR_RETURN(cv::Mat rgb, imaging::ToDisplayRgb(decoded.pixels));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<uint8_t> encoded;
  if (kind == "thumb.jpg") {
    double scale = 256.0 / std::max(bgr.cols, bgr.rows);
    if (scale < 1.0) cv::resize(bgr, bgr, cv::Size(), scale, scale, cv::INTER_AREA);
    cv::imencode(".jpg", bgr, encoded, {cv::IMWRITE_JPEG_QUALITY, 85});
  } else {
    cv::imencode(".png", bgr, encoded, {cv::IMWRITE_PNG_COMPRESSION, 1});
  }
  std::string out(encoded.begin(), encoded.end());
  // Cache atomically; a failure only costs a recomputation next time.
  std::error_code ec;
  std::filesystem::create_directories(options_.derived_dir, ec);
  std::filesystem::path tmp = path;
  tmp += ".tmp" + NewId();
  {
    std::ofstream f(tmp, std::ios::binary);
    f.write(out.data(), static_cast<std::streamsize>(out.size()));
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
  return out;
}

Result<std::string> ImageService::Thumbnail(const std::string& user_id,
                                            const std::string& image_id) {
  SEGHUB_ASSIGN_OR_RETURN(auto access, Access(user_id, image_id, Role::kViewer));
  return Derived(access.first, "thumb.jpg");
}

Result<std::pair<std::string, std::string>> ImageService::Preview(const std::string& user_id,
                                                                  const std::string& image_id) {
  SEGHUB_ASSIGN_OR_RETURN(auto access, Access(user_id, image_id, Role::kViewer));
  SEGHUB_ASSIGN_OR_RETURN(std::string bytes, blobs_->Get(access.first.blob_key));
  SEGHUB_ASSIGN_OR_RETURN(imaging::ImageHeader header, imaging::ProbeHeader(Bytes(bytes)));
  int bits = header.first().bits_per_sample;
  bool browser_native = header.format != imaging::ImageFormat::kTiff && bits <= 8;
  if (browser_native) return std::make_pair(std::move(bytes), ContentTypeOf(header.format));
  SEGHUB_ASSIGN_OR_RETURN(std::string png, Derived(access.first, "preview.png"));
  return std::make_pair(std::move(png), std::string("image/png"));
}

}  // namespace seghub::hub
