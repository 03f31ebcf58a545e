// DatabaseTest: a gtest fixture that runs each test over both Database backends, each test on a
// fresh, empty database (SQLite: a file in a new temp folder; PostgreSQL: a new schema, set as
// the connections' search_path, on the shared test server: see PostgresServer::CreateSchema()).
// Missing PostgreSQL binaries fail the PostgreSQL instances with a message naming the package; they
// are not skipped.
//
//   class UsersTest : public seghub::testing::DatabaseTest {};
//   TEST_P(UsersTest, Creates) { ASSERT_TRUE(db()->Execute("...").ok()); }
//   SEGHUB_INSTANTIATE_DATABASE_TEST(UsersTest);
#ifndef SEGHUB_TESTS_SUPPORT_DATABASE_FIXTURE_H_
#define SEGHUB_TESTS_SUPPORT_DATABASE_FIXTURE_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/status.h"
#include "storage/database.h"

namespace seghub::testing {

enum class Backend { kSqlite, kPostgres };

// "Sqlite" / "Postgres": test name suffixes.
std::string BackendName(Backend backend);

// A fresh empty database for `backend`, owned by the returned handle until it is destroyed.
// Main-thread (test body) use; the Database itself is thread-safe.
class ScratchDatabase {
 public:
  static Result<std::unique_ptr<ScratchDatabase>> Create(Backend backend,
                                                         storage::DatabaseOptions options = {});
  ~ScratchDatabase();  // closes the Database, then drops the database / removes the folder

  storage::Database* db() const { return db_.get(); }
  // The url Database::Open() took, for opening more Database objects on the same database.
  const std::string& url() const { return url_; }

 private:
  ScratchDatabase() = default;

  Backend backend_ = Backend::kSqlite;
  std::string url_;
  std::filesystem::path dir_;  // SQLite only
  std::unique_ptr<storage::Database> db_;
};

class DatabaseTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  Backend backend() const { return GetParam(); }
  storage::Database* db() const { return scratch_->db(); }
  const std::string& url() const { return scratch_->url(); }

 private:
  std::unique_ptr<ScratchDatabase> scratch_;
};

struct BackendParamName {
  std::string operator()(const ::testing::TestParamInfo<Backend>& info) const {
    return BackendName(info.param);
  }
};

}  // namespace seghub::testing

// Runs every TEST_P of `suite` (a DatabaseTest subclass) on SQLite and on PostgreSQL.
#define SEGHUB_INSTANTIATE_DATABASE_TEST(suite)                                      \
  INSTANTIATE_TEST_SUITE_P(, suite,                                                  \
                           ::testing::Values(::seghub::testing::Backend::kSqlite,    \
                                             ::seghub::testing::Backend::kPostgres), \
                           ::seghub::testing::BackendParamName())

#endif  // SEGHUB_TESTS_SUPPORT_DATABASE_FIXTURE_H_
