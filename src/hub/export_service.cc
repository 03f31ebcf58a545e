#include "hub/export_service.h"

#include "common/logging.h"
#include "hub/ids.h"
#include "hub/image_service.h"
#include "hub/result_json.h"

namespace seghub::hub {
namespace {

constexpr const char* kExportColumns =
    "id, user_id, project_id, status, progress, stage, COALESCE(error, ''), created_at, "
    "updated_at";

ExportInfo ExportFromRow(const storage::Row& r) {
  return {r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Double(4),
          r.Text(5), r.Text(6), r.Int(7),  r.Int(8)};
}

nlohmann::json OptionsToJson(const ExportOptions& o) {
  return {{"formats", o.formats},
          {"include_originals", o.include_originals},
          {"include_overlays", o.include_overlays},
          {"um_per_px", o.um_per_px}};
}

}  // namespace

nlohmann::json ExportInfoToJson(const ExportInfo& info) {
  nlohmann::json j = {{"id", info.id},
                      {"project_id", info.project_id},
                      {"status", info.status},
                      {"progress", info.progress},
                      {"stage", info.stage},
                      {"created_at", Iso8601(info.created_at_ms)},
                      {"updated_at", Iso8601(info.updated_at_ms)}};
  if (!info.error.empty()) j["error"] = info.error;
  return j;
}

ExportService::ExportService(storage::Database* db, storage::BlobStore* blobs,
                             ProjectService* projects, EventBus* events, const Clock* clock,
                             std::filesystem::path dir, int threads)
    : db_(db),
      blobs_(blobs),
      projects_(projects),
      events_(events),
      clock_(clock ? clock : SystemClock::Get()),
      dir_(std::move(dir)),
      pool_(std::make_unique<pipeline::TaskPool>(threads, 1000)) {}

ExportService::~ExportService() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, flag] : cancels_) flag->store(true);
  }
  pool_->Stop();
}

Status ExportService::RecoverInterrupted() {
  return db_
      ->Execute(
          "UPDATE exports SET status = 'failed', error = 'interrupted by a restart; start "
          "it again', updated_at = ? WHERE status IN ('queued', 'running')",
          {clock_->NowUnixMs()})
      .status();
}

Result<ExportInfo> ExportService::Start(const std::string& user_id, const std::string& project_id,
                                        ExportOptions options) {
  SEGHUB_RETURN_IF_ERROR(projects_->RoleOf(user_id, project_id).status());
  SEGHUB_RETURN_IF_ERROR(ValidateExportOptions(options));
  ExportInfo info{NewId(), user_id, project_id, "queued", 0.0, "queued", "", 0, 0};
  info.created_at_ms = info.updated_at_ms = clock_->NowUnixMs();
  SEGHUB_RETURN_IF_ERROR(db_->Transact([&](storage::Connection& c) -> Status {
    SEGHUB_ASSIGN_OR_RETURN(
        storage::QueryResult active,
        c.Query("SELECT id FROM exports WHERE user_id = ? AND status IN ('queued', 'running')",
                {user_id}));
    if (!active.empty()) {
      return FailedPrecondition("you already have an export running (" + active.rows[0].Text(0) +
                                "); wait for it or cancel it");
    }
    return c
        .Execute(
            "INSERT INTO exports (id, user_id, project_id, status, progress, stage, "
            "options_json, created_at, updated_at) VALUES (?, ?, ?, 'queued', 0, 'queued', "
            "?, ?, ?)",
            {info.id, user_id, project_id, OptionsToJson(options).dump(), info.created_at_ms,
             info.updated_at_ms})
        .status();
  }));
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancels_[info.id] = cancel;
  }
  Status posted = pool_->Post([this, info, options, cancel] { Run(info, options, cancel); });
  if (!posted.ok()) {
    SetState(info, "failed", 0, "", posted.message());
    return posted;
  }
  Emit(info, "export:started", 0, "queued", "export started");
  return info;
}

Result<std::vector<ExportImage>> ExportService::LoadImages(const std::string& project_id) {
  SEGHUB_ASSIGN_OR_RETURN(
      storage::QueryResult r,
      db_->Query("SELECT i.id, i.name, i.width, i.height, i.blob_key, s.result_json, "
                 "COALESCE(s.model, ''), COALESCE(s.threshold, 0) FROM images i "
                 "JOIN segmentations s ON s.image_id = i.id AND s.version = "
                 "(SELECT MAX(version) FROM segmentations m WHERE m.image_id = i.id) "
                 "WHERE i.project_id = ? ORDER BY i.name, i.id",
                 {project_id}));
  std::vector<ExportImage> images;
  for (const storage::Row& row : r.rows) {
    ExportImage image;
    image.id = row.Text(0);
    image.name = row.Text(1);
    image.width = static_cast<int>(row.Int(2));
    image.height = static_cast<int>(row.Int(3));
    nlohmann::json result = nlohmann::json::parse(row.Text(5), nullptr, false);
    if (result.is_discarded()) return Internal("stored segmentation of " + image.name + " is bad");
    SEGHUB_ASSIGN_OR_RETURN(image.polygons,
                            PolygonsFromJson(result.value("polygons", nlohmann::json::array())));
    image.model = row.Text(6);
    image.threshold = row.Double(7);
    std::string key = row.Text(4);
    storage::BlobStore* blobs = blobs_;
    image.load_original = [blobs, key]() { return blobs->Get(key); };
    images.push_back(std::move(image));
  }
  return images;
}

void ExportService::Run(ExportInfo info, ExportOptions options,
                        std::shared_ptr<std::atomic<bool>> cancel) {
  SetState(info, "running", 0, "loading", "");
  Result<std::vector<ExportImage>> images = LoadImages(info.project_id);
  Result<int64_t> written = images.status();
  if (images.ok()) {
    std::string project_name = info.project_id;
    Result<Project> project = projects_->Get(info.user_id, info.project_id);
    if (project.ok()) project_name = project->name;
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    int64_t last_ms = 0;
    auto progress = [&](double fraction, const std::string& stage) {
      int64_t now = clock_->NowUnixMs();
      if (now - last_ms < 250 && fraction < 1.0) return;  // throttle rows and events
      last_ms = now;
      SetState(info, "running", fraction, stage, "");
      Emit(info, "export:progress", fraction, stage, stage);
    };
    written = WriteExportZip(project_name, *images, options, dir_ / (info.id + ".zip"), progress,
                             cancel.get());
  }
  if (written.ok()) {
    SetState(info, "done", 1.0, "done", "");
    Emit(info, "export:completed", 1.0, "done", "export ready");
  } else if (written.status().code() == StatusCode::kCancelled || cancel->load()) {
    SetState(info, "cancelled", 0, "cancelled", "");
    Emit(info, "export:cancelled", 0, "cancelled", "export cancelled");
  } else {
    SEGHUB_LOG_WARN("export {} failed: {}", info.id, written.status().ToString());
    SetState(info, "failed", 0, "failed", written.status().message());
    Emit(info, "export:failed", 0, "failed", written.status().message());
  }
  std::lock_guard<std::mutex> lock(mu_);
  cancels_.erase(info.id);
}

void ExportService::SetState(const ExportInfo& info, const std::string& status, double progress,
                             const std::string& stage, const std::string& error) {
  // A cancelled export stays cancelled even if its worker reports progress afterwards.
  Status s = db_->Execute(
                    "UPDATE exports SET status = ?, progress = ?, stage = ?, error = ?, "
                    "updated_at = ? WHERE id = ? AND status <> 'cancelled'",
                    {status, progress, stage,
                     error.empty() ? storage::SqlValue() : storage::SqlValue(error),
                     clock_->NowUnixMs(), info.id})
                 .status();
  if (!s.ok()) SEGHUB_LOG_WARN("export {}: cannot record state: {}", info.id, s.ToString());
}

void ExportService::Emit(const ExportInfo& info, const std::string& event, double progress,
                         const std::string& stage, const std::string& message) {
  if (events_ == nullptr) return;
  events_->Publish({event,
                    info.user_id,
                    "",
                    {{"jobId", info.id},
                     {"projectId", info.project_id},
                     {"progress", progress},
                     {"stage", stage},
                     {"message", message}}});
}

Result<ExportInfo> ExportService::Get(const std::string& user_id, const std::string& export_id) {
  SEGHUB_ASSIGN_OR_RETURN(storage::QueryResult r,
                          db_->Query(std::string("SELECT ") + kExportColumns +
                                         " FROM exports WHERE id = ? AND user_id = ?",
                                     {export_id, user_id}));
  if (r.empty()) return NotFound("export not found");
  return ExportFromRow(r.rows[0]);
}

Result<std::pair<std::filesystem::path, std::string>> ExportService::Download(
    const std::string& user_id, const std::string& export_id) {
  SEGHUB_ASSIGN_OR_RETURN(ExportInfo info, Get(user_id, export_id));
  if (info.status != "done") {
    return FailedPrecondition("the export is " + info.status + ", not done");
  }
  std::string name = "export";
  Result<Project> project = projects_->Get(user_id, info.project_id);
  if (project.ok()) name = project->name;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') ch = '_';
  }
  return std::make_pair(dir_ / (info.id + ".zip"), name + "_export.zip");
}

Result<ExportInfo> ExportService::Cancel(const std::string& user_id, const std::string& export_id) {
  SEGHUB_ASSIGN_OR_RETURN(ExportInfo info, Get(user_id, export_id));
  if (info.status != "queued" && info.status != "running") return info;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cancels_.find(export_id);
    if (it != cancels_.end()) it->second->store(true);
  }
  SEGHUB_RETURN_IF_ERROR(db_->Execute("UPDATE exports SET status = 'cancelled', updated_at = ? "
                                      "WHERE id = ? AND status IN ('queued', 'running')",
                                      {clock_->NowUnixMs(), export_id})
                             .status());
  return Get(user_id, export_id);
}

}  // namespace seghub::hub
