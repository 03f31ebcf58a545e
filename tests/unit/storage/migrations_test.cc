#include "storage/migrations.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/database_fixture.h"

namespace seghub::storage {
namespace {

class MigrationsTest : public ::seghub::testing::DatabaseTest {
 protected:
  // v1 creates a log table; every version appends its number, so a version applied twice shows.
  static std::vector<Migration> Sample() {
    std::vector<Migration> m = {
        {3, "third", "CREATE TABLE c (id TEXT PRIMARY KEY); INSERT INTO log VALUES (3);", ""},
        {1, "first", "CREATE TABLE log (v BIGINT NOT NULL); INSERT INTO log VALUES (1);", ""},
        {2, "second", "CREATE TABLE b (id TEXT PRIMARY KEY, x BIGINT); INSERT INTO log VALUES (2);",
         "CREATE TABLE b (id TEXT PRIMARY KEY, x BIGINT); INSERT INTO log VALUES (2);"
         "INSERT INTO b VALUES ('pg', 1);"},
    };
    return m;
  }
  std::vector<int64_t> Log() {
    std::vector<int64_t> out;
    auto r = db()->Query("SELECT v FROM log ORDER BY v");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) {
      for (const Row& row : r->rows) out.push_back(row.Int(0));
    }
    return out;
  }
};

TEST_P(MigrationsTest, FreshDatabaseHasVersionZero) {
  auto v = SchemaVersion(*db());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 0);
}

TEST_P(MigrationsTest, AppliesInVersionOrderAndIsIdempotent) {
  ASSERT_TRUE(Migrate(*db(), Sample()).ok());
  EXPECT_EQ(*SchemaVersion(*db()), 3);
  EXPECT_EQ(Log(), (std::vector<int64_t>{1, 2, 3}));
  auto rows =
      db()->Query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->rows.size(), 3u);
  EXPECT_EQ(rows->rows[1].Text(1), "second");
  EXPECT_GT(rows->rows[0].Int(2), 0);
  // The PostgreSQL variant replaces the portable script there.
  auto b = db()->Query("SELECT COUNT(*) FROM b");
  EXPECT_EQ(b->rows[0].Int(0), db()->dialect() == Dialect::kPostgres ? 1 : 0);

  ASSERT_TRUE(Migrate(*db(), Sample()).ok());
  EXPECT_EQ(Log(), (std::vector<int64_t>{1, 2, 3}));
  // Adding a version later applies just that one.
  auto more = Sample();
  more.push_back({4, "fourth", "INSERT INTO log VALUES (4)", ""});
  ASSERT_TRUE(Migrate(*db(), more).ok());
  EXPECT_EQ(Log(), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(*SchemaVersion(*db()), 4);
}

TEST_P(MigrationsTest, ConcurrentMigratorsApplyEachVersionOnce) {
  auto other = Database::Open(url());
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  std::vector<Migration> migrations = Sample();
  for (int v = 4; v <= 8; ++v) {
    migrations.push_back(
        {v, "v" + std::to_string(v), "INSERT INTO log VALUES (" + std::to_string(v) + ")", ""});
  }
  Status s1, s2;
  std::thread a([&] { s1 = Migrate(*db(), migrations); });
  std::thread b([&] { s2 = Migrate(**other, migrations); });
  a.join();
  b.join();
  EXPECT_TRUE(s1.ok()) << s1.ToString();
  EXPECT_TRUE(s2.ok()) << s2.ToString();
  EXPECT_EQ(Log(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(*SchemaVersion(*db()), 8);
}

TEST_P(MigrationsTest, FailingMigrationRollsBackAndNamesItsVersion) {
  std::vector<Migration> migrations = Sample();
  migrations.push_back(
      {4, "broken", "CREATE TABLE d (id TEXT); INSERT INTO log VALUES (4); SELEKT nonsense;", ""});
  migrations.push_back({5, "never", "INSERT INTO log VALUES (5)", ""});
  Status s = Migrate(*db(), migrations);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("migration 4 (broken)"), std::string::npos) << s.message();
  EXPECT_EQ(*SchemaVersion(*db()), 3);
  EXPECT_EQ(Log(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_FALSE(db()->Query("SELECT COUNT(*) FROM d").ok());  // its CREATE TABLE rolled back
}

TEST_P(MigrationsTest, RejectsDuplicateOrNonPositiveVersions) {
  EXPECT_EQ(Migrate(*db(), {{1, "a", "SELECT 1", ""}, {1, "b", "SELECT 1", ""}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Migrate(*db(), {{0, "zero", "SELECT 1", ""}}).code(), StatusCode::kInvalidArgument);
}

SEGHUB_INSTANTIATE_DATABASE_TEST(MigrationsTest);

}  // namespace
}  // namespace seghub::storage
