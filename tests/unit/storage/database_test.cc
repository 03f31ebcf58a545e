#include "storage/database.h"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <limits>
#include <thread>
#include <vector>

#include "storage/postgres_database.h"
#include "support/database_fixture.h"
#include "support/postgres_server.h"

namespace seghub::storage {
namespace {

using ::seghub::testing::Backend;

class DatabaseBackendTest : public ::seghub::testing::DatabaseTest {
 protected:
  void CreateItems() {
    ASSERT_TRUE(db()->Execute("CREATE TABLE items (id TEXT PRIMARY KEY, i BIGINT, "
                              "d DOUBLE PRECISION, s TEXT)")
                    .ok());
  }
};

TEST_P(DatabaseBackendTest, TypesRoundTripIncludingNull) {
  CreateItems();
  const std::string big(1 << 20, 'x');
  const std::string unicode = "h\xC3\xA9llo \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC";
  const int64_t max = std::numeric_limits<int64_t>::max();
  ASSERT_TRUE(
      db()->Execute("INSERT INTO items VALUES (?, ?, ?, ?)", {"a", max, 3.25, unicode}).ok());
  ASSERT_TRUE(db()->Execute("INSERT INTO items VALUES (?, ?, ?, ?)",
                            {"b", int64_t{-7}, std::monostate{}, big})
                  .ok());
  ASSERT_TRUE(
      db()->Execute("INSERT INTO items VALUES (?, ?, ?, ?)", {"c", std::monostate{}, -0.5, ""})
          .ok());
  auto r = db()->Query("SELECT id, i, d, s FROM items ORDER BY id");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(r->columns, (std::vector<std::string>{"id", "i", "d", "s"}));
  const Row& a = r->rows[0];
  EXPECT_EQ(std::get<int64_t>(a.value(1)), max);
  EXPECT_EQ(std::get<double>(a.value(2)), 3.25);
  EXPECT_EQ(a.Text(3), unicode);
  EXPECT_EQ(a.Double(1), static_cast<double>(max));
  const Row& b = r->rows[1];
  EXPECT_EQ(b.Int(1), -7);
  EXPECT_TRUE(b.IsNull(2));
  EXPECT_EQ(b.Double(2), 0.0);
  EXPECT_EQ(b.Text(3), big);
  const Row& c = r->rows[2];
  EXPECT_TRUE(c.IsNull(1));
  EXPECT_EQ(c.Int(1), 0);
  EXPECT_EQ(c.Text(1), "");
  EXPECT_EQ(c.Text(2), "-0.5");
  EXPECT_FALSE(c.IsNull(3));
  EXPECT_EQ(c.Text(3), "");
}

TEST_P(DatabaseBackendTest, ParamsInWhereAndAffectedCounts) {
  CreateItems();
  for (int k = 0; k < 5; ++k) {
    ASSERT_TRUE(db()->Execute("INSERT INTO items (id, i) VALUES (?, ?)",
                              {"k" + std::to_string(k), int64_t{k}})
                    .ok());
  }
  auto changed = db()->Execute("UPDATE items SET s = ? WHERE i >= ?", {"big", int64_t{2}});
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(*changed, 3);
  auto r = db()->Query("SELECT COUNT(*) FROM items WHERE s = ?", {"big"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].Int(0), 3);
  EXPECT_EQ(r->affected, 0);
  EXPECT_EQ(*db()->Execute("DELETE FROM items WHERE i < ?", {int64_t{1}}), 1);
}

TEST_P(DatabaseBackendTest, ReturningAndOnConflict) {
  CreateItems();
  auto r =
      db()->Query("INSERT INTO items (id, i) VALUES (?, ?) RETURNING id, i", {"a", int64_t{1}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0].Text(0), "a");
  EXPECT_EQ(r->rows[0].Int(1), 1);
  EXPECT_EQ(r->affected, 1);
  const char* upsert =
      "INSERT INTO items (id, i) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET i = items.i + "
      "excluded.i RETURNING i";
  r = db()->Query(upsert, {"a", int64_t{10}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows[0].Int(0), 11);
  auto n = db()->Execute("INSERT INTO items (id, i) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
                         {"a", int64_t{5}});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
}

TEST_P(DatabaseBackendTest, ErrorStatusFromCallbackRollsBack) {
  CreateItems();
  Status s = db()->Transact([](Connection& conn) -> Status {
    SEGHUB_RETURN_IF_ERROR(conn.Execute("INSERT INTO items (id) VALUES (?)", {"x"}).status());
    return NotFound("changed my mind");
  });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "changed my mind");
  auto r = db()->Query("SELECT COUNT(*) FROM items");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].Int(0), 0);
}

TEST_P(DatabaseBackendTest, ConstraintViolationsMapToStatusCodes) {
  ASSERT_TRUE(db()->Transact([](Connection& conn) {
                    return conn.ExecuteScript(
                        "CREATE TABLE parents (id TEXT PRIMARY KEY);"
                        "CREATE TABLE kids (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
                        " parent_id TEXT REFERENCES parents(id), age BIGINT CHECK (age >= 0));"
                        "INSERT INTO parents VALUES ('p');");
                  })
                  .ok());
  const char* insert = "INSERT INTO kids (id, name, parent_id, age) VALUES (?, ?, ?, ?)";
  ASSERT_TRUE(db()->Execute(insert, {"k1", "ann", "p", int64_t{3}}).ok());
  EXPECT_EQ(db()->Execute(insert, {"k1", "bob", "p", int64_t{3}}).status().code(),
            StatusCode::kAlreadyExists);  // primary key
  EXPECT_EQ(db()->Execute(insert, {"k2", "ann", "p", int64_t{3}}).status().code(),
            StatusCode::kAlreadyExists);  // unique
  EXPECT_EQ(db()->Execute(insert, {"k3", "cy", "nobody", int64_t{3}}).status().code(),
            StatusCode::kFailedPrecondition);  // foreign key
  EXPECT_EQ(db()->Execute(insert, {"k4", std::monostate{}, "p", int64_t{3}}).status().code(),
            StatusCode::kFailedPrecondition);  // not null
  EXPECT_EQ(db()->Execute(insert, {"k5", "dee", "p", int64_t{-1}}).status().code(),
            StatusCode::kFailedPrecondition);  // check
  Status bad = db()->Execute("SELEKT 1").status();
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("SELEKT"), std::string::npos) << bad.message();
}

TEST_P(DatabaseBackendTest, QuestionMarkInsideLiteralIsNotAPlaceholder) {
  auto r = db()->Query("SELECT 'why?', ? || '?''?', \"x?\" FROM (SELECT 1 AS \"x?\") AS t", {"a"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows[0].Text(0), "why?");
  EXPECT_EQ(r->rows[0].Text(1), "a?'?");
  EXPECT_EQ(r->rows[0].Int(2), 1);
}

TEST_P(DatabaseBackendTest, ConcurrentReadModifyWriteIncrementsAreNotLost) {
  ASSERT_TRUE(
      db()->Execute("CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)").ok());
  ASSERT_TRUE(db()->Execute("INSERT INTO counter VALUES (1, 0)").ok());
  // SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL (READ COMMITTED) needs the lock.
  const std::string read = db()->dialect() == Dialect::kPostgres
                               ? "SELECT n FROM counter WHERE id = 1 FOR UPDATE"
                               : "SELECT n FROM counter WHERE id = 1";
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < 50; ++k) {
        Status s = db()->Transact([&](Connection& conn) -> Status {
          SEGHUB_ASSIGN_OR_RETURN(QueryResult r, conn.Query(read));
          return conn.Execute("UPDATE counter SET n = ? WHERE id = 1", {r.rows[0].Int(0) + 1})
              .status();
        });
        if (!s.ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto r = db()->Query("SELECT n FROM counter");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].Int(0), 400);
}

// A transient failure (SQLite: busy past the timeout; PostgreSQL: deadlock) reruns the callback.
TEST_P(DatabaseBackendTest, TransientFailuresAreRetried) {
  ASSERT_TRUE(db()->Execute("CREATE TABLE t (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)").ok());
  ASSERT_TRUE(db()->Execute("INSERT INTO t VALUES (1, 0), (2, 0)").ok());
  DatabaseOptions options;
  options.busy_timeout = std::chrono::milliseconds(1);
  options.max_retries = 50;
  auto other = Database::Open(url(), options);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  std::atomic<int> attempts{0};
  std::barrier sync(2);
  auto lock_in_order = [&](Database* d, int first, int second) {
    bool synced = false;
    return d->Transact([&](Connection& conn) -> Status {
      attempts.fetch_add(1);
      const char* bump = "UPDATE t SET n = n + 1 WHERE id = ?";
      SEGHUB_RETURN_IF_ERROR(conn.Execute(bump, {int64_t{first}}).status());
      if (!synced) {  // both transactions hold their first lock before asking for the second
        synced = true;
        sync.arrive_and_wait();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      return conn.Execute(bump, {int64_t{second}}).status();
    });
  };
  Status s1, s2;
  if (backend() == Backend::kPostgres) {
    std::thread a([&] { s1 = lock_in_order(db(), 1, 2); });
    std::thread b([&] { s2 = lock_in_order(other->get(), 2, 1); });
    a.join();
    b.join();
  } else {  // BEGIN IMMEDIATE cannot deadlock: hold the write lock while others time out
    std::thread a([&] { s1 = lock_in_order(db(), 1, 2); });
    sync.arrive_and_wait();
    auto bump = [](Connection& conn) {
      return conn.Execute("UPDATE t SET n = n + 1 WHERE id = 1").status();
    };
    options.max_retries = 0;
    auto impatient = Database::Open(url(), options);
    ASSERT_TRUE(impatient.ok());
    EXPECT_EQ((*impatient)->Transact(bump).code(), StatusCode::kAborted);  // busy, no retry
    s2 = (*other)->Transact(bump);  // busy at first, succeeds on a retry
    a.join();
  }
  EXPECT_TRUE(s1.ok()) << s1.ToString();
  EXPECT_TRUE(s2.ok()) << s2.ToString();
  if (backend() == Backend::kPostgres) EXPECT_GT(attempts.load(), 2);  // the victim ran again
  auto r = db()->Query("SELECT SUM(n) FROM t");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].Int(0), backend() == Backend::kPostgres ? 4 : 3);
}

TEST_P(DatabaseBackendTest, PingAndDescription) {
  EXPECT_TRUE(db()->Ping().ok());
  EXPECT_EQ(db()->dialect(),
            backend() == Backend::kPostgres ? Dialect::kPostgres : Dialect::kSqlite);
  EXPECT_FALSE(db()->description().empty());
}

SEGHUB_INSTANTIATE_DATABASE_TEST(DatabaseBackendTest);

TEST(DatabaseOpenTest, RejectsUnknownScheme) {
  EXPECT_EQ(Database::Open("mysql://x/y").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Database::Open("").status().code(), StatusCode::kInvalidArgument);
}

TEST(DatabaseOpenTest, SqliteInMemoryWorks) {
  auto db = Database::Open("sqlite::memory:");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)->Execute("CREATE TABLE t (x BIGINT)").ok());
  ASSERT_TRUE((*db)->Execute("INSERT INTO t VALUES (?)", {int64_t{4}}).ok());
  EXPECT_EQ((*db)->Query("SELECT x FROM t")->rows[0].Int(0), 4);
  EXPECT_EQ((*db)->description(), "sqlite::memory:");
}

TEST(DatabaseOpenTest, SqliteMissingFolderIsUnavailable) {
  EXPECT_EQ(Database::Open("sqlite:/nonexistent-dir/x/y.db").status().code(),
            StatusCode::kUnavailable);
}

TEST(DatabaseOpenTest, PostgresPasswordNeverShown) {
  auto server = ::seghub::testing::SharedPostgres();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string port = std::to_string((*server)->port());
  auto db = Database::Open("postgres://postgres:hunter2@127.0.0.1:" + port + "/postgres");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->description(), "postgres://127.0.0.1:" + port + "/postgres");
  DatabaseOptions options;
  options.connect_timeout = std::chrono::seconds(1);
  auto down = Database::Open("postgres://postgres:hunter2@127.0.0.1:1/postgres", options);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(down.status().message().find("hunter2"), std::string::npos) << down.status().message();
}

TEST(RewritePlaceholdersTest, SkipsLiteralsIdentifiersAndComments) {
  EXPECT_EQ(RewritePlaceholders("SELECT ?, '?', \"a?\", ? -- ?\n, ?"),
            "SELECT $1, '?', \"a?\", $2 -- ?\n, $3");
  EXPECT_EQ(RewritePlaceholders("VALUES ('it''s ?', ?)"), "VALUES ('it''s ?', $1)");
}

}  // namespace
}  // namespace seghub::storage
