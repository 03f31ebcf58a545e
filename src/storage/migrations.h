// Versioned schema migrations over a Database (SQLite or PostgreSQL).
//
// Each migration runs in its own transaction together with its row in
// schema_migrations(version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL),
// so a failure leaves the schema at the previous version. Several processes may migrate the same
// database at once: PostgreSQL serialises them with a transaction-scoped advisory lock, SQLite
// with BEGIN IMMEDIATE, and each transaction re-checks whether its version is already applied.
#ifndef SEGHUB_STORAGE_MIGRATIONS_H_
#define SEGHUB_STORAGE_MIGRATIONS_H_

#include <string>
#include <vector>

#include "common/status.h"
#include "storage/database.h"

namespace seghub::storage {

// An aggregate so schema lists read `{1, "users", kV1Users, ""}`.
struct Migration {
  int version;               // positive, unique; applied in ascending order
  std::string name;          // for schema_migrations and error messages
  std::string sql;           // portable script (several statements separated by ';')
  std::string postgres_sql;  // PostgreSQL-specific script; empty: use `sql`
};

// Applies, in version order, the migrations not yet recorded in schema_migrations (creating that
// table when missing). kInvalidArgument for a non-positive or duplicate version; a failing
// migration returns its error's code with "migration <version> (<name>)" in the message, and the
// versions before it stay applied. Any thread; safe against concurrent Migrate() calls from other
// threads or processes.
Status Migrate(Database& db, const std::vector<Migration>& migrations);

// The highest applied version; 0 for a fresh database. Any thread.
Result<int> SchemaVersion(Database& db);

}  // namespace seghub::storage

#endif  // SEGHUB_STORAGE_MIGRATIONS_H_
