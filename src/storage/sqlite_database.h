// Private: the SQLite adapter behind Database::Open (see sqlite_database.cc).
#ifndef SEGHUB_STORAGE_SQLITE_DATABASE_H_
#define SEGHUB_STORAGE_SQLITE_DATABASE_H_

#include <memory>
#include <string>

#include "storage/database.h"

namespace seghub::storage {

// Opens (creating if needed) the SQLite file at `path`, or a private in-memory database for
// ":memory:". kUnavailable when the file cannot be opened. Any thread.
Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path,
                                             const DatabaseOptions& options);

}  // namespace seghub::storage

#endif  // SEGHUB_STORAGE_SQLITE_DATABASE_H_
