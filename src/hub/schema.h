// The Hub's database schema as versioned migrations (see storage/migrations.h). Portable SQL for
// SQLite and PostgreSQL (rules in storage/database.h). A released migration is never edited:
// changes go into a new one with the next version.
#ifndef SEGHUB_HUB_SCHEMA_H_
#define SEGHUB_HUB_SCHEMA_H_

#include <vector>

#include "storage/migrations.h"

namespace seghub::hub {

const std::vector<storage::Migration>& HubMigrations();

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_SCHEMA_H_
