#include "storage/migrations.h"

#include <algorithm>
#include <chrono>
#include <set>

namespace seghub::storage {
namespace {

// Arbitrary constant shared by every seghub process: the advisory lock key that serialises
// migrations on one PostgreSQL database ("seghub_m" in ASCII).
constexpr int64_t kMigrationLockKey = 0x73656768755f6d;

constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
    "name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// First statement of every migration transaction. SQLite needs nothing: BEGIN IMMEDIATE already
// holds the database's only write lock.
Status LockMigrations(Database& db, Connection& conn) {
  if (db.dialect() != Dialect::kPostgres) return Status::Ok();
  return conn.Query("SELECT pg_advisory_xact_lock(?)", {kMigrationLockKey}).status();
}

Status ApplyOne(Database& db, const Migration& m) {
  return db.Transact([&](Connection& conn) -> Status {
    SEGHUB_RETURN_IF_ERROR(LockMigrations(db, conn));
    // Re-checked under the lock: another process may have applied it since we looked.
    SEGHUB_ASSIGN_OR_RETURN(QueryResult seen,
                            conn.Query("SELECT version FROM schema_migrations WHERE version = ?",
                                       {static_cast<int64_t>(m.version)}));
    if (!seen.empty()) return Status::Ok();
    const std::string& script =
        db.dialect() == Dialect::kPostgres && !m.postgres_sql.empty() ? m.postgres_sql : m.sql;
    SEGHUB_RETURN_IF_ERROR(conn.ExecuteScript(script));
    return conn
        .Query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
               {static_cast<int64_t>(m.version), m.name, NowMillis()})
        .status();
  });
}

}  // namespace

Status Migrate(Database& db, const std::vector<Migration>& migrations) {
  std::vector<const Migration*> ordered;
  std::set<int> versions;
  for (const Migration& m : migrations) {
    if (m.version <= 0) {
      return InvalidArgument("migration '" + m.name + "' has non-positive version " +
                             std::to_string(m.version));
    }
    if (!versions.insert(m.version).second) {
      return InvalidArgument("duplicate migration version " + std::to_string(m.version));
    }
    ordered.push_back(&m);
  }
  std::sort(ordered.begin(), ordered.end(),
            [](const Migration* a, const Migration* b) { return a->version < b->version; });
  // Under the lock too: concurrent CREATE TABLE IF NOT EXISTS can collide in PostgreSQL's catalog.
  SEGHUB_RETURN_IF_ERROR(db.Transact([&](Connection& conn) -> Status {
    SEGHUB_RETURN_IF_ERROR(LockMigrations(db, conn));
    return conn.Query(kCreateTable).status();
  }));
  SEGHUB_ASSIGN_OR_RETURN(QueryResult applied_rows,
                          db.Query("SELECT version FROM schema_migrations"));
  std::set<int64_t> applied;
  for (const Row& row : applied_rows.rows) applied.insert(row.Int(0));
  for (const Migration* m : ordered) {
    if (applied.count(m->version)) continue;  // fast path; ApplyOne re-checks under the lock
    Status status = ApplyOne(db, *m);
    if (!status.ok()) {
      return Status(status.code(), "migration " + std::to_string(m->version) + " (" + m->name +
                                       ") failed: " + status.message());
    }
  }
  return Status::Ok();
}

Result<int> SchemaVersion(Database& db) {
  const char* exists_sql =
      db.dialect() == Dialect::kPostgres
          ? "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_name = 'schema_migrations'"
          : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
            "name = 'schema_migrations'";
  SEGHUB_ASSIGN_OR_RETURN(QueryResult exists, db.Query(exists_sql));
  if (exists.empty() || exists.rows[0].Int(0) == 0) return 0;
  SEGHUB_ASSIGN_OR_RETURN(QueryResult max,
                          db.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return static_cast<int>(max.rows.at(0).Int(0));
}

}  // namespace seghub::storage
