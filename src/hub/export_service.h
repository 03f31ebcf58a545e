// ExportService: background export jobs that build a ZIP of a project's segmentations
// (export_builder.h), with progress events, one active export per user, and cancellation.
//
// Exports run on the service's own threads (never on HTTP io threads). The ZIP is written to
// <dir>/<export id>.zip and served by the API from there. An export that a restart interrupted
// is marked failed at startup ("interrupted by a restart; start it again").
//
// Access: an export belongs to the user who started it; anyone else gets kNotFound.
// Threading: thread-safe. Ownership: borrows db, blobs, projects, events and clock.
#ifndef SEGHUB_HUB_EXPORT_SERVICE_H_
#define SEGHUB_HUB_EXPORT_SERVICE_H_

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "hub/event_bus.h"
#include "hub/export_builder.h"
#include "hub/project_service.h"
#include "pipeline/task_pool.h"
#include "storage/blob_store.h"
#include "storage/database.h"

namespace seghub::hub {

struct ExportInfo {
  std::string id;
  std::string user_id;
  std::string project_id;
  std::string status;  // queued | running | done | failed | cancelled
  double progress = 0;
  std::string stage;
  std::string error;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

class ExportService {
 public:
  ExportService(storage::Database* db, storage::BlobStore* blobs, ProjectService* projects,
                EventBus* events, const Clock* clock, std::filesystem::path dir, int threads = 2);
  ~ExportService();  // cancels running exports and joins

  // Marks exports a previous process left queued/running as failed. Call once at startup.
  Status RecoverInterrupted();
  // Viewer role. kFailedPrecondition when the user already has an export queued or running.
  Result<ExportInfo> Start(const std::string& user_id, const std::string& project_id,
                           ExportOptions options);
  Result<ExportInfo> Get(const std::string& user_id, const std::string& export_id);
  // The finished ZIP's path and a download file name. kFailedPrecondition before it is done.
  Result<std::pair<std::filesystem::path, std::string>> Download(const std::string& user_id,
                                                                 const std::string& export_id);
  Result<ExportInfo> Cancel(const std::string& user_id, const std::string& export_id);

 private:
  void Run(ExportInfo info, ExportOptions options, std::shared_ptr<std::atomic<bool>> cancel);
  Result<std::vector<ExportImage>> LoadImages(const std::string& project_id);
  void SetState(const ExportInfo& info, const std::string& status, double progress,
                const std::string& stage, const std::string& error);
  void Emit(const ExportInfo& info, const std::string& event, double progress,
            const std::string& stage, const std::string& message);

  storage::Database* db_;
  storage::BlobStore* blobs_;
  ProjectService* projects_;
  EventBus* events_;
  const Clock* clock_;
  std::filesystem::path dir_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> cancels_;  // guarded by mu_
  std::unique_ptr<pipeline::TaskPool> pool_;
};

nlohmann::json ExportInfoToJson(const ExportInfo& info);

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_EXPORT_SERVICE_H_
