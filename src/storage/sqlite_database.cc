// SQLite adapter. A pool of connections to one file in WAL mode (readers never block the single
// writer); every transaction is BEGIN IMMEDIATE, so writers queue on the busy handler instead of
// deadlocking on a read-to-write lock upgrade. ":memory:" uses a pool of one connection, because
// separate in-memory connections would each see their own empty database (and shared-cache mode
// has table-level locking that breaks the retry model).
#include "storage/sqlite_database.h"

#include <sqlite3.h>

#include <cctype>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "storage/backoff.h"

namespace seghub::storage {
namespace {

bool IsTransient(int code) {
  const int primary = code & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

// Maps an SQLite (extended) result code to a Status; `what` names the failing statement.
Status SqliteError(sqlite3* db, int code, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(code));
  switch (code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return AlreadyExists(std::move(msg));
    default:
      break;
  }
  switch (code & 0xff) {
    case SQLITE_CONSTRAINT:  // foreign key, check, not null, trigger
      return FailedPrecondition(std::move(msg));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status(StatusCode::kAborted, "database busy: " + msg);
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
      return Unavailable(std::move(msg));
    default:
      return Internal(std::move(msg));
  }
}

// The Connection handed to a Transact() callback. Remembers whether a statement failed
// transiently so that Transact() retries even when `fn` rewrapped the error.
class SqliteConnection : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}

  Result<QueryResult> Query(std::string_view sql, const SqlParams& params) override;
  Status ExecuteScript(std::string_view sql) override;
  bool transient_failure() const { return transient_failure_; }

 private:
  Status Fail(int code, std::string_view sql) {
    if (IsTransient(code)) transient_failure_ = true;
    return SqliteError(db_, code, sql);
  }
  Status Bind(sqlite3_stmt* stmt, const SqlParams& params, std::string_view sql);

  sqlite3* db_;
  bool transient_failure_ = false;
};

Status SqliteConnection::Bind(sqlite3_stmt* stmt, const SqlParams& params, std::string_view sql) {
  const int expected = sqlite3_bind_parameter_count(stmt);
  if (expected != static_cast<int>(params.size())) {
    return InvalidArgument(std::string(sql) + ": expects " + std::to_string(expected) +
                           " parameters, got " + std::to_string(params.size()));
  }
  for (int i = 0; i < expected; ++i) {
    const SqlValue& v = params[i];
    int rc = SQLITE_OK;
    if (const auto* n = std::get_if<int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt, i + 1, *n);
    } else if (const auto* d = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(stmt, i + 1, *d);
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      rc = sqlite3_bind_text64(stmt, i + 1, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
    } else {
      rc = sqlite3_bind_null(stmt, i + 1);
    }
    if (rc != SQLITE_OK) return Fail(rc, sql);
  }
  return Status::Ok();
}

SqlValue ColumnValue(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, i);
    case SQLITE_NULL:
      return std::monostate{};
    default: {  // TEXT, and BLOB read as bytes
      const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, i));
      return std::string(p ? p : "", sqlite3_column_bytes(stmt, i));
    }
  }
}

Result<QueryResult> SqliteConnection::Query(std::string_view sql, const SqlParams& params) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
  if (rc != SQLITE_OK) return Fail(rc, sql);
  if (!stmt) return InvalidArgument("empty statement");
  for (const char* p = tail; p && p < sql.data() + sql.size(); ++p) {
    if (*p != ';' && !std::isspace(static_cast<unsigned char>(*p))) {
      return InvalidArgument(std::string(sql) + ": several statements; use ExecuteScript");
    }
  }
  SEGHUB_RETURN_IF_ERROR(Bind(stmt.get(), params, sql));
  QueryResult result;
  const int ncol = sqlite3_column_count(stmt.get());
  for (int i = 0; i < ncol; ++i) result.columns.emplace_back(sqlite3_column_name(stmt.get(), i));
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    std::vector<SqlValue> values;
    values.reserve(ncol);
    for (int i = 0; i < ncol; ++i) values.push_back(ColumnValue(stmt.get(), i));
    result.rows.emplace_back(std::move(values));
  }
  if (rc != SQLITE_DONE) return Fail(sqlite3_extended_errcode(db_), sql);
  result.affected = sqlite3_stmt_readonly(stmt.get()) ? 0 : sqlite3_changes64(db_);
  return result;
}

Status SqliteConnection::ExecuteScript(std::string_view sql) {
  std::string script(sql);  // sqlite3_exec needs a terminating NUL
  int rc = sqlite3_exec(db_, script.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Fail(sqlite3_extended_errcode(db_), "script");
  return Status::Ok();
}

class SqliteDatabase : public Database {
 public:
  SqliteDatabase(std::string path, DatabaseOptions options)
      : path_(std::move(path)), options_(options) {
    if (path_ == ":memory:") options_.pool_size = 1;
  }
  ~SqliteDatabase() override {
    for (sqlite3* db : idle_) sqlite3_close_v2(db);
  }

  Dialect dialect() const override { return Dialect::kSqlite; }
  std::string description() const override { return "sqlite:" + path_; }
  Status Transact(const std::function<Status(Connection&)>& fn) override;
  Status Ping() override;

  // Opens the first connection so that Open() reports an unusable file. Open()'s thread.
  Status Init() {
    SEGHUB_ASSIGN_OR_RETURN(sqlite3 * db, OpenConnection());
    std::lock_guard<std::mutex> lock(mu_);
    ++open_count_;
    idle_.push_back(db);
    return Status::Ok();
  }

 private:
  Result<sqlite3*> OpenConnection() const;
  Result<sqlite3*> Acquire();
  void Release(sqlite3* db);
  Status TryOnce(const std::function<Status(Connection&)>& fn, bool* transient);

  const std::string path_;
  DatabaseOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;  // signalled when a connection returns or a slot frees up
  std::vector<sqlite3*> idle_;  // guarded by mu_
  int open_count_ = 0;          // guarded by mu_: idle plus handed out
};

Result<sqlite3*> SqliteDatabase::OpenConnection() const {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path_.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = Unavailable("cannot open sqlite database '" + path_ +
                           "': " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    sqlite3_close_v2(db);
    return s;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(options_.busy_timeout.count()));
  const char* pragmas =
      path_ == ":memory:"
          ? "PRAGMA foreign_keys=ON;"
          : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;";
  rc = sqlite3_exec(db, pragmas, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db, sqlite3_extended_errcode(db), "configure " + path_);
    sqlite3_close_v2(db);
    return Unavailable(s.message());
  }
  return db;
}

Result<sqlite3*> SqliteDatabase::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !idle_.empty() || open_count_ < options_.pool_size; });
  if (!idle_.empty()) {
    sqlite3* db = idle_.back();
    idle_.pop_back();
    return db;
  }
  ++open_count_;  // reserve the slot, then open without holding the lock
  lock.unlock();
  Result<sqlite3*> db = OpenConnection();
  if (!db.ok()) {
    lock.lock();
    --open_count_;
    cv_.notify_one();
  }
  return db;
}

void SqliteDatabase::Release(sqlite3* db) {
  // A callback that left a transaction open (it cannot: Transact() ends it) must not leak it.
  if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(db);
  cv_.notify_one();
}

Status SqliteDatabase::TryOnce(const std::function<Status(Connection&)>& fn, bool* transient) {
  SEGHUB_ASSIGN_OR_RETURN(sqlite3 * db, Acquire());
  SqliteConnection conn(db);
  Status status;
  int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    *transient = IsTransient(sqlite3_extended_errcode(db));
    status = SqliteError(db, sqlite3_extended_errcode(db), "BEGIN IMMEDIATE");
    Release(db);
    return status;
  }
  try {
    status = fn(conn);
  } catch (const std::exception& e) {  // never let a callback's exception skip the rollback
    status = Internal(std::string("exception in transaction: ") + e.what());
  }
  if (status.ok()) {
    rc = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      *transient = IsTransient(sqlite3_extended_errcode(db));
      status = SqliteError(db, sqlite3_extended_errcode(db), "COMMIT");
    }
  } else {
    *transient = conn.transient_failure();
  }
  if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  Release(db);
  return status;
}

Status SqliteDatabase::Ping() {
  // Outside a transaction: BEGIN IMMEDIATE would queue a probe behind every writer.
  SEGHUB_ASSIGN_OR_RETURN(sqlite3 * db, Acquire());
  const int rc = sqlite3_exec(db, "SELECT 1", nullptr, nullptr, nullptr);
  Status status = rc == SQLITE_OK ? Status::Ok() : SqliteError(db, rc, "SELECT 1");
  Release(db);
  return status;
}

Status SqliteDatabase::Transact(const std::function<Status(Connection&)>& fn) {
  Status status;
  for (int attempt = 0;; ++attempt) {
    bool transient = false;
    status = TryOnce(fn, &transient);
    if (status.ok() || !transient) return status;
    if (attempt >= options_.max_retries) break;
    SleepBeforeRetry(attempt);
  }
  return Status(StatusCode::kAborted, "gave up after " + std::to_string(options_.max_retries) +
                                          " retries: " + status.message());
}

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path,
                                             const DatabaseOptions& options) {
  auto db = std::make_unique<SqliteDatabase>(path, options);
  SEGHUB_RETURN_IF_ERROR(db->Init());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace seghub::storage
