#include "support/database_fixture.h"

#include <cstdlib>
#include <system_error>

#include "support/postgres_server.h"

namespace seghub::testing {
namespace fs = std::filesystem;

std::string BackendName(Backend backend) {
  return backend == Backend::kSqlite ? "Sqlite" : "Postgres";
}

Result<std::unique_ptr<ScratchDatabase>> ScratchDatabase::Create(Backend backend,
                                                                 storage::DatabaseOptions options) {
  std::unique_ptr<ScratchDatabase> scratch(new ScratchDatabase());
  scratch->backend_ = backend;
  if (backend == Backend::kSqlite) {
    std::string tmpl = (fs::temp_directory_path() / "seghub-db-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) return Internal("mkdtemp failed for " + tmpl);
    scratch->dir_ = tmpl;
    scratch->url_ = "sqlite:" + (scratch->dir_ / "test.db").string();
  } else {
    SEGHUB_ASSIGN_OR_RETURN(PostgresServer * server, SharedPostgres());
    SEGHUB_ASSIGN_OR_RETURN(scratch->url_, server->CreateSchema());
  }
  SEGHUB_ASSIGN_OR_RETURN(scratch->db_, storage::Database::Open(scratch->url_, options));
  return scratch;
}

ScratchDatabase::~ScratchDatabase() {
  db_.reset();
  if (backend_ == Backend::kSqlite) {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  } else if (!url_.empty()) {
    Result<PostgresServer*> server = SharedPostgres();
    if (server.ok()) (*server)->DropSchema(url_);  // best effort: the server is temporary
  }
}

void DatabaseTest::SetUp() {
  Result<std::unique_ptr<ScratchDatabase>> scratch = ScratchDatabase::Create(GetParam());
  ASSERT_TRUE(scratch.ok()) << "cannot set up a " << BackendName(GetParam())
                            << " test database: " << scratch.status().ToString();
  scratch_ = std::move(scratch).value();
}

void DatabaseTest::TearDown() { scratch_.reset(); }

}  // namespace seghub::testing
