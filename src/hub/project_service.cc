#include "hub/project_service.h"

#include <algorithm>

#include "hub/ids.h"

namespace seghub::hub {
namespace {

using storage::Connection;
using storage::Row;

constexpr int64_t kShareLinkTtlMs = int64_t{30} * 24 * 3600 * 1000;

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

Status NotVisible() { return NotFound("project not found"); }

// The role column of the visibility query: the owner, else the share's role.
constexpr const char* kProjectSelect = R"sql(
SELECT p.id, p.name, p.description, p.created_at, p.updated_at,
       u.id, u.email, u.name,
       CASE WHEN p.owner_id = ? THEN 'owner' ELSE s.role END,
       (SELECT COUNT(*) FROM images i WHERE i.project_id = p.id)
FROM projects p
JOIN users u ON u.id = p.owner_id
LEFT JOIN project_shares s ON s.project_id = p.id AND s.user_id = ?
)sql";

Role RoleFromName(const std::string& name) {
  if (name == "owner") return Role::kOwner;
  if (name == "editor") return Role::kEditor;
  return Role::kViewer;
}

Project ProjectFromRow(const Row& r) {
  Project p;
  p.id = r.Text(0);
  p.name = r.Text(1);
  p.description = r.Text(2);
  p.created_at_ms = r.Int(3);
  p.updated_at_ms = r.Int(4);
  p.owner = {r.Text(5), r.Text(6), r.Text(7)};
  p.role = RoleFromName(r.Text(8));
  p.image_count = r.Int(9);
  return p;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOwner:
      return "owner";
    case Role::kEditor:
      return "editor";
    case Role::kViewer:
      return "viewer";
  }
  return "viewer";
}

Result<Role> ParseShareRole(std::string_view name) {
  if (name == "viewer") return Role::kViewer;
  if (name == "editor") return Role::kEditor;
  return InvalidArgument("role must be \"viewer\" or \"editor\"");
}

Result<std::string> ValidateName(std::string_view name, std::string_view what) {
  std::string trimmed = Trim(name);
  if (trimmed.empty()) return InvalidArgument(std::string(what) + " must not be empty");
  if (trimmed.size() > 200) {
    return InvalidArgument(std::string(what) + " is longer than 200 characters");
  }
  return trimmed;
}

ProjectService::ProjectService(storage::Database* db, const Clock* clock)
    : db_(db), clock_(clock ? clock : SystemClock::Get()) {}

int64_t ProjectService::NowMs() const { return clock_->NowUnixMs(); }

Result<Project> ProjectService::Load(Connection& c, const std::string& user_id,
                                     const std::string& project_id) {
  SEGHUB_ASSIGN_OR_RETURN(
      storage::QueryResult r,
      c.Query(std::string(kProjectSelect) +
                  " WHERE p.id = ? AND (p.owner_id = ? OR s.user_id IS NOT NULL)",
              {user_id, user_id, project_id, user_id}));
  if (r.empty()) return NotVisible();
  return ProjectFromRow(r.rows[0]);
}

Result<Role> ProjectService::RoleOf(const std::string& user_id, const std::string& project_id) {
  SEGHUB_ASSIGN_OR_RETURN(
      storage::QueryResult r,
      db_->Query("SELECT CASE WHEN p.owner_id = ? THEN 'owner' ELSE s.role END FROM projects p "
                 "LEFT JOIN project_shares s ON s.project_id = p.id AND s.user_id = ? "
                 "WHERE p.id = ? AND (p.owner_id = ? OR s.user_id IS NOT NULL)",
                 {user_id, user_id, project_id, user_id}));
  if (r.empty()) return NotVisible();
  return RoleFromName(r.rows[0].Text(0));
}

Result<Role> ProjectService::Require(const std::string& user_id, const std::string& project_id,
                                     Role minimum) {
  SEGHUB_ASSIGN_OR_RETURN(Role role, RoleOf(user_id, project_id));
  if (static_cast<int>(role) < static_cast<int>(minimum)) {
    return Status(StatusCode::kPermissionDenied,
                  "this needs the " + std::string(RoleName(minimum)) +
                      " role on the project; you are " + std::string(RoleName(role)));
  }
  return role;
}

Result<ProjectPage> ProjectService::List(const std::string& user_id, int page, int per_page) {
  if (page < 1) return InvalidArgument("page must be >= 1");
  if (per_page < 1 || per_page > 200) return InvalidArgument("per_page must be in 1..200");
  ProjectPage out;
  std::string where = " WHERE p.owner_id = ? OR s.user_id IS NOT NULL";
  SEGHUB_ASSIGN_OR_RETURN(
      storage::QueryResult rows,
      db_->Query(std::string(kProjectSelect) + where +
                     " ORDER BY p.updated_at DESC, p.id LIMIT ? OFFSET ?",
                 {user_id, user_id, user_id, int64_t{per_page}, int64_t{(page - 1) * per_page}}));
  for (const Row& r : rows.rows) out.projects.push_back(ProjectFromRow(r));
  SEGHUB_ASSIGN_OR_RETURN(storage::QueryResult count,
                          db_->Query("SELECT COUNT(*) FROM projects p LEFT JOIN project_shares s "
                                     "ON s.project_id = p.id AND s.user_id = ? "
                                     "WHERE p.owner_id = ? OR s.user_id IS NOT NULL",
                                     {user_id, user_id}));
  out.total = count.rows[0].Int(0);
  return out;
}

Result<Project> ProjectService::Create(const std::string& user_id, std::string_view name,
                                       std::string_view description) {
  SEGHUB_ASSIGN_OR_RETURN(std::string clean, ValidateName(name, "project name"));
  if (description.size() > 10000) return InvalidArgument("description is over 10000 characters");
  std::string id = NewId();
  int64_t now = NowMs();
  Project project;
  SEGHUB_RETURN_IF_ERROR(db_->Transact([&](Connection& c) -> Status {
    SEGHUB_RETURN_IF_ERROR(
        c.Execute("INSERT INTO projects (id, owner_id, name, description, created_at, updated_at) "
                  "VALUES (?, ?, ?, ?, ?, ?)",
                  {id, user_id, clean, std::string(description), now, now})
            .status());
    SEGHUB_ASSIGN_OR_RETURN(project, Load(c, user_id, id));
    return Status::Ok();
  }));
  return project;
}

Result<Project> ProjectService::Get(const std::string& user_id, const std::string& project_id) {
  Project project;
  SEGHUB_RETURN_IF_ERROR(db_->Transact([&](Connection& c) -> Status {
    SEGHUB_ASSIGN_OR_RETURN(project, Load(c, user_id, project_id));
    return Status::Ok();
  }));
  return project;
}

Result<Project> ProjectService::Update(const std::string& user_id, const std::string& project_id,
                                       std::optional<std::string> name,
                                       std::optional<std::string> description) {
  SEGHUB_RETURN_IF_ERROR(Require(user_id, project_id, Role::kEditor).status());
  if (name) {
    SEGHUB_ASSIGN_OR_RETURN(*name, ValidateName(*name, "project name"));
  }
  if (description && description->size() > 10000) {
    return InvalidArgument("description is over 10000 characters");
  }
  Project project;
  SEGHUB_RETURN_IF_ERROR(db_->Transact([&](Connection& c) -> Status {
    SEGHUB_RETURN_IF_ERROR(
        c.Execute("UPDATE projects SET name = COALESCE(?, name), "
                  "description = COALESCE(?, description), updated_at = ? WHERE id = ?",
                  {name ? storage::SqlValue(*name) : storage::SqlValue(),
                   description ? storage::SqlValue(*description) : storage::SqlValue(), NowMs(),
                   project_id})
            .status());
    SEGHUB_ASSIGN_OR_RETURN(project, Load(c, user_id, project_id));
    return Status::Ok();
  }));
  return project;
}

Status ProjectService::Delete(const std::string& user_id, const std::string& project_id) {
  SEGHUB_RETURN_IF_ERROR(Require(user_id, project_id, Role::kOwner).status());
  return db_->Execute("DELETE FROM projects WHERE id = ? AND owner_id = ?", {project_id, user_id})
      .status();
}

Result<std::vector<Share>> ProjectService::ListShares(const std::string& user_id,
                                                      const std::string& project_id) {
  SEGHUB_RETURN_IF_ERROR(RoleOf(user_id, project_id).status());
  SEGHUB_ASSIGN_OR_RETURN(
      storage::QueryResult r,
      db_->Query("SELECT s.id, u.id, u.email, u.name, s.role, s.created_at FROM project_shares s "
                 "JOIN users u ON u.id = s.user_id WHERE s.project_id = ? ORDER BY s.created_at",
                 {project_id}));
  std::vector<Share> shares;
  for (const Row& row : r.rows) {
    shares.push_back({row.Text(0),
                      {row.Text(1), row.Text(2), row.Text(3)},
                      RoleFromName(row.Text(4)),
                      row.Int(5)});
  }
  return shares;
}

Result<Share> ProjectService::AddShare(const std::string& user_id, const std::string& project_id,
                                       std::string_view email, Role role) {
  SEGHUB_RETURN_IF_ERROR(Require(user_id, project_id, Role::kOwner).status());
  std::string normalized = Trim(email);
  std::transform(normalized.begin(), normalized.end(), normalized.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  SEGHUB_ASSIGN_OR_RETURN(
      storage::QueryResult u,
      db_->Query("SELECT id, email, name FROM users WHERE email = ?", {normalized}));
  if (u.empty()) return NotFound("no user with the e-mail " + normalized);
  Share share{NewId(), {u.rows[0].Text(0), u.rows[0].Text(1), u.rows[0].Text(2)}, role, NowMs()};
  if (share.user.id == user_id) return InvalidArgument("you cannot share a project with yourself");
  SEGHUB_ASSIGN_OR_RETURN(
      storage::QueryResult r,
      db_->Query(
          "INSERT INTO project_shares (id, project_id, user_id, role, created_at) "
          "VALUES (?, ?, ?, ?, ?) ON CONFLICT (project_id, user_id) "
          "DO UPDATE SET role = excluded.role RETURNING id, created_at",
          {share.id, project_id, share.user.id, std::string(RoleName(role)), share.created_at_ms}));
  share.id = r.rows[0].Text(0);
  share.created_at_ms = r.rows[0].Int(1);
  return share;
}

Status ProjectService::RemoveShare(const std::string& user_id, const std::string& project_id,
                                   const std::string& share_id) {
  SEGHUB_RETURN_IF_ERROR(Require(user_id, project_id, Role::kOwner).status());
  SEGHUB_ASSIGN_OR_RETURN(int64_t n,
                          db_->Execute("DELETE FROM project_shares WHERE id = ? AND project_id = ?",
                                       {share_id, project_id}));
  if (n == 0) return NotFound("share not found");
  return Status::Ok();
}

Result<std::string> ProjectService::CreateShareLink(const std::string& user_id,
                                                    const std::string& project_id, Role role) {
  SEGHUB_RETURN_IF_ERROR(Require(user_id, project_id, Role::kOwner).status());
  std::string token = RandomToken();
  int64_t now = NowMs();
  SEGHUB_RETURN_IF_ERROR(
      db_->Execute("INSERT INTO share_links (token_hash, project_id, role, created_by, "
                   "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                   {Sha256Hex(token), project_id, std::string(RoleName(role)), user_id, now,
                    now + kShareLinkTtlMs})
          .status());
  return token;
}

Result<Project> ProjectService::AcceptShareLink(const std::string& user_id,
                                                std::string_view token) {
  Project project;
  SEGHUB_RETURN_IF_ERROR(db_->Transact([&](Connection& c) -> Status {
    SEGHUB_ASSIGN_OR_RETURN(
        storage::QueryResult link,
        c.Query("SELECT l.project_id, l.role, p.owner_id FROM share_links l "
                "JOIN projects p ON p.id = l.project_id WHERE l.token_hash = ? AND "
                "(l.expires_at IS NULL OR l.expires_at > ?)",
                {Sha256Hex(token), NowMs()}));
    if (link.empty()) return NotFound("share link not found or expired");
    std::string project_id = link.rows[0].Text(0);
    if (link.rows[0].Text(2) != user_id) {
      // Keep an existing editor role when the link only grants viewer.
      SEGHUB_RETURN_IF_ERROR(
          c.Execute("INSERT INTO project_shares (id, project_id, user_id, role, created_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (project_id, user_id) DO UPDATE SET "
                    "role = CASE WHEN project_shares.role = 'editor' THEN 'editor' "
                    "ELSE excluded.role END",
                    {NewId(), project_id, user_id, link.rows[0].Text(1), NowMs()})
              .status());
    }
    SEGHUB_ASSIGN_OR_RETURN(project, Load(c, user_id, project_id));
    return Status::Ok();
  }));
  return project;
}

}  // namespace seghub::hub
