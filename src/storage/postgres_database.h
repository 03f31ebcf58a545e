// Private: the PostgreSQL (libpqxx) adapter behind Database::Open (see postgres_database.cc).
#ifndef SEGHUB_STORAGE_POSTGRES_DATABASE_H_
#define SEGHUB_STORAGE_POSTGRES_DATABASE_H_

#include <memory>
#include <string>

#include "storage/database.h"

namespace seghub::storage {

// Connects to the server named by a postgres:// url (one connection up front, so a bad url or
// an unreachable server fails here with kUnavailable). Any thread.
Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url,
                                               const DatabaseOptions& options);

// Rewrites `?` placeholders to $1, $2, ... outside quoted literals, identifiers and comments.
// Exposed for tests. Any thread.
std::string RewritePlaceholders(std::string_view sql);

}  // namespace seghub::storage

#endif  // SEGHUB_STORAGE_POSTGRES_DATABASE_H_
