// ProjectService: projects, their shares and share links, and the access rule every Hub route
// applies.
//
// Access: a project is visible to its owner and to the users it is shared with (role viewer or
// editor). Everyone else gets kNotFound for it, exactly as for a project that does not exist, so
// no user can learn the names or ids of another user's projects. A visible project whose role is
// too low for the action gets kPermissionDenied.
//
// Threading: thread-safe (all state is in the database). Ownership: borrows the database and the
// clock, which must outlive the service.
#ifndef SEGHUB_HUB_PROJECT_SERVICE_H_
#define SEGHUB_HUB_PROJECT_SERVICE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "storage/database.h"

namespace seghub::hub {

enum class Role { kViewer = 1, kEditor = 2, kOwner = 3 };

std::string_view RoleName(Role role);
// "viewer" or "editor" (owner cannot be granted); kInvalidArgument otherwise.
Result<Role> ParseShareRole(std::string_view name);

struct UserRef {
  std::string id;
  std::string email;
  std::string name;
};

struct Project {
  std::string id;
  std::string name;
  std::string description;
  UserRef owner;
  Role role = Role::kViewer;  // the caller's role
  int64_t image_count = 0;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

struct Share {
  std::string id;
  UserRef user;
  Role role = Role::kViewer;
  int64_t created_at_ms = 0;
};

struct ProjectPage {
  std::vector<Project> projects;
  int64_t total = 0;
};

class ProjectService {
 public:
  ProjectService(storage::Database* db, const Clock* clock);

  // The caller's role on `project_id`; kNotFound when the project is not visible to the caller.
  Result<Role> RoleOf(const std::string& user_id, const std::string& project_id);
  // RoleOf() and at least `minimum` (kPermissionDenied otherwise).
  Result<Role> Require(const std::string& user_id, const std::string& project_id, Role minimum);

  // Owned and shared projects, newest first. page >= 1, 1 <= per_page <= 200.
  Result<ProjectPage> List(const std::string& user_id, int page, int per_page);
  Result<Project> Create(const std::string& user_id, std::string_view name,
                         std::string_view description);
  Result<Project> Get(const std::string& user_id, const std::string& project_id);
  // Owner or editor renames; empty optionals leave a field as it is.
  Result<Project> Update(const std::string& user_id, const std::string& project_id,
                         std::optional<std::string> name, std::optional<std::string> description);
  Status Delete(const std::string& user_id, const std::string& project_id);  // owner only

  Result<std::vector<Share>> ListShares(const std::string& user_id, const std::string& project_id);
  // Owner only. kNotFound when no user has that e-mail; kInvalidArgument when sharing with
  // oneself. Sharing again with the same user changes the role.
  Result<Share> AddShare(const std::string& user_id, const std::string& project_id,
                         std::string_view email, Role role);
  Status RemoveShare(const std::string& user_id, const std::string& project_id,
                     const std::string& share_id);
  // Owner only; returns the link token (stored hashed). The link expires after 30 days.
  Result<std::string> CreateShareLink(const std::string& user_id, const std::string& project_id,
                                      Role role);
  // The caller joins the project with the link's role (an existing higher role is kept).
  Result<Project> AcceptShareLink(const std::string& user_id, std::string_view token);

 private:
  Result<Project> Load(storage::Connection& c, const std::string& user_id,
                       const std::string& project_id);
  int64_t NowMs() const;

  storage::Database* db_;
  const Clock* clock_;
};

// Name rules shared by projects and uploads: 1..200 characters after trimming.
Result<std::string> ValidateName(std::string_view name, std::string_view what);

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_PROJECT_SERVICE_H_
