// PostgreSQL adapter over libpqxx 6.4. A lazily grown pool of pqxx::connection; a connection
// that broke is dropped and its slot freed, so the next Acquire() reconnects. Transactions run
// at READ COMMITTED (the server default): callers that read-modify-write a row lock it with
// SELECT ... FOR UPDATE (branching on dialect()) or use a single UPDATE ... SET n = n + 1.
// libpqxx reports everything by exception; none escapes this file.
#include "storage/postgres_database.h"

#include <cctype>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <vector>

#include "storage/backoff.h"

namespace seghub::storage {
namespace {

// PostgreSQL type OIDs (pg_type.h); stable across server versions.
constexpr pqxx::oid kBoolOid = 16;
constexpr pqxx::oid kInt8Oid = 20;
constexpr pqxx::oid kInt2Oid = 21;
constexpr pqxx::oid kInt4Oid = 23;
constexpr pqxx::oid kOidOid = 26;
constexpr pqxx::oid kFloat4Oid = 700;
constexpr pqxx::oid kFloat8Oid = 701;
constexpr pqxx::oid kNumericOid = 1700;

// What a failed libpqxx call means for Transact().
struct Failure {
  Status status;
  bool transient = false;  // roll back and retry the whole callback
  bool broken = false;     // the connection is unusable: drop it from the pool
};

// The pieces of a postgres:// url that description() may show, plus the password to scrub.
struct UrlParts {
  std::string host_port_db;
  std::string password;
};

UrlParts ParseUrl(const std::string& url) {
  UrlParts parts;
  std::string rest = url.substr(url.find("://") + 3);
  if (size_t q = rest.find('?'); q != std::string::npos) rest.resize(q);
  if (size_t at = rest.rfind('@'); at != std::string::npos) {
    std::string userinfo = rest.substr(0, at);
    if (size_t colon = userinfo.find(':'); colon != std::string::npos) {
      parts.password = userinfo.substr(colon + 1);
    }
    rest = rest.substr(at + 1);
  }
  parts.host_port_db = rest;
  return parts;
}

std::string Scrub(std::string msg, const std::string& secret) {
  if (secret.empty()) return msg;
  for (size_t pos; (pos = msg.find(secret)) != std::string::npos;)
    msg.replace(pos, secret.size(), "***");
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

// Translates the exception in flight (call only inside a catch block).
Failure CurrentFailure(std::string_view what, const std::string& secret) {
  const std::string prefix = std::string(what) + ": ";
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return {Unavailable(prefix + Scrub(e.what(), secret)), true, true};
  } catch (const pqxx::in_doubt_error& e) {  // lost connection during COMMIT: outcome unknown
    return {Unavailable(prefix + Scrub(e.what(), secret)), false, true};
  } catch (const pqxx::transaction_rollback& e) {
    // Serialization failure (40001), deadlock (40P01): libpqxx 6.4 leaves sqlstate() empty on
    // these subclasses, so the type is what identifies them.
    return {Status(StatusCode::kAborted, prefix + Scrub(e.what(), secret)), true, false};
  } catch (const pqxx::sql_error& e) {
    const std::string& state = e.sqlstate();
    std::string msg = prefix + Scrub(e.what(), secret);
    if (state == "40001" || state == "40P01") {
      return {Status(StatusCode::kAborted, std::move(msg)), true, false};
    }
    if (state == "23505") return {AlreadyExists(std::move(msg))};
    if (state == "23503" || state == "23502" || state == "23514") {
      return {FailedPrecondition(std::move(msg))};
    }
    if (state.rfind("08", 0) == 0) return {Unavailable(std::move(msg)), true, true};
    if (state.rfind("42", 0) == 0 || state.rfind("22", 0) == 0) {
      return {InvalidArgument(std::move(msg))};  // syntax / data errors: the caller's SQL
    }
    return {Internal(std::move(msg))};
  } catch (const std::exception& e) {
    return {Internal(prefix + Scrub(e.what(), secret))};
  }
}

SqlValue FieldValue(const pqxx::field& f, pqxx::oid type) {
  if (f.is_null()) return std::monostate{};
  const char* s = f.c_str();
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
      return static_cast<int64_t>(std::strtoll(s, nullptr, 10));
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      return std::strtod(s, nullptr);
    case kBoolOid:
      return static_cast<int64_t>(s[0] == 't' ? 1 : 0);
    default:
      return std::string(s, f.size());
  }
}

// True when the statement's first keyword is one that never changes rows (result::cmd_status is
// private in libpqxx 6.4, so the command tag is not available).
bool IsReadOnly(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size() && (std::isspace(static_cast<unsigned char>(sql[i])) || sql[i] == '(')) {
    ++i;
  }
  std::string word;
  while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i]))) {
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i++])));
  }
  return word == "SELECT" || word == "VALUES" || word == "SHOW" || word == "TABLE" ||
         word == "EXPLAIN";
}

std::string FormatDouble(double d) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, ec == std::errc() ? ptr : buf);
}

class PostgresConnection : public Connection {
 public:
  PostgresConnection(pqxx::work& tx, const std::string& secret) : tx_(tx), secret_(secret) {}

  Result<QueryResult> Query(std::string_view sql, const SqlParams& params) override;
  Status ExecuteScript(std::string_view sql) override;
  // Set when a statement failed in a way that Transact() should retry / discard the connection.
  const std::optional<Failure>& failure() const { return failure_; }

 private:
  Status Fail(std::string_view sql) {
    failure_ = CurrentFailure(sql, secret_);
    return failure_->status;
  }

  pqxx::work& tx_;
  const std::string& secret_;
  std::optional<Failure> failure_;
};

Result<QueryResult> PostgresConnection::Query(std::string_view sql, const SqlParams& params) {
  if (failure_)
    return FailedPrecondition("transaction already failed: " + failure_->status.message());
  // Text-format parameters; NULL is a null pointer. The server infers each type from context.
  std::vector<std::string> storage(params.size());
  std::vector<const char*> pointers(params.size(), nullptr);
  for (size_t i = 0; i < params.size(); ++i) {
    const SqlValue& v = params[i];
    if (std::holds_alternative<std::monostate>(v)) continue;
    if (const auto* n = std::get_if<int64_t>(&v)) storage[i] = std::to_string(*n);
    if (const auto* d = std::get_if<double>(&v)) storage[i] = FormatDouble(*d);
    if (const auto* s = std::get_if<std::string>(&v)) storage[i] = *s;
    pointers[i] = storage[i].c_str();
  }
  try {
    pqxx::result r =
        tx_.exec_params(RewritePlaceholders(sql), pqxx::prepare::make_dynamic_params(pointers));
    QueryResult result;
    const int ncol = static_cast<int>(r.columns());
    std::vector<pqxx::oid> types;
    for (int i = 0; i < ncol; ++i) {
      result.columns.emplace_back(r.column_name(i));
      types.push_back(r.column_type(i));
    }
    result.rows.reserve(r.size());
    for (const pqxx::row& row : r) {
      std::vector<SqlValue> values;
      values.reserve(ncol);
      for (int i = 0; i < ncol; ++i) values.push_back(FieldValue(row[i], types[i]));
      result.rows.emplace_back(std::move(values));
    }
    // PQcmdTuples counts selected rows too; only data-changing commands report `affected`.
    result.affected = IsReadOnly(sql) ? 0 : static_cast<int64_t>(r.affected_rows());
    return result;
  } catch (...) {
    return Fail(sql);
  }
}

Status PostgresConnection::ExecuteScript(std::string_view sql) {
  if (failure_)
    return FailedPrecondition("transaction already failed: " + failure_->status.message());
  try {
    tx_.exec(std::string(sql));  // simple query protocol: several statements in one round trip
    return Status::Ok();
  } catch (...) {
    return Fail("script");
  }
}

class PostgresDatabase : public Database {
 public:
  PostgresDatabase(std::string url, DatabaseOptions options)
      : url_(std::move(url)), parts_(ParseUrl(url_)), options_(options) {}

  Dialect dialect() const override { return Dialect::kPostgres; }
  std::string description() const override { return "postgres://" + parts_.host_port_db; }
  Status Transact(const std::function<Status(Connection&)>& fn) override;
  Status Ping() override;

  // Opens the first connection so that Open() reports a bad url or a down server. Open()'s
  // thread.
  Status Init() {
    Result<std::unique_ptr<pqxx::connection>> conn = Connect();
    if (!conn.ok()) return conn.status();
    std::lock_guard<std::mutex> lock(mu_);
    ++open_count_;
    idle_.push_back(std::move(conn).value());
    return Status::Ok();
  }

 private:
  using ConnPtr = std::unique_ptr<pqxx::connection>;
  Result<ConnPtr> Connect() const;
  Result<ConnPtr> Acquire();
  void Release(ConnPtr conn, bool broken);
  Status TryOnce(const std::function<Status(Connection&)>& fn, bool* transient);

  const std::string url_;  // holds the password: never logged or put into a Status
  const UrlParts parts_;
  const DatabaseOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;  // signalled when a connection returns or a slot frees up
  std::vector<ConnPtr> idle_;   // guarded by mu_
  int open_count_ = 0;          // guarded by mu_: idle plus handed out
};

Result<PostgresDatabase::ConnPtr> PostgresDatabase::Connect() const {
  const long seconds = std::max<long>(
      1, std::chrono::duration_cast<std::chrono::seconds>(options_.connect_timeout).count());
  std::string conninfo = url_ + (url_.find('?') == std::string::npos ? "?" : "&") +
                         "connect_timeout=" + std::to_string(seconds);
  try {
    return std::make_unique<pqxx::connection>(conninfo);
  } catch (const std::exception& e) {
    return Unavailable("cannot connect to " + description() + ": " +
                       Scrub(e.what(), parts_.password));
  }
}

Result<PostgresDatabase::ConnPtr> PostgresDatabase::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !idle_.empty() || open_count_ < options_.pool_size; });
  if (!idle_.empty()) {
    ConnPtr conn = std::move(idle_.back());
    idle_.pop_back();
    return conn;
  }
  ++open_count_;  // reserve the slot, then connect without holding the lock
  lock.unlock();
  Result<ConnPtr> conn = Connect();
  if (!conn.ok()) {
    lock.lock();
    --open_count_;
    cv_.notify_one();
  }
  return conn;
}

void PostgresDatabase::Release(ConnPtr conn, bool broken) {
  bool usable = !broken;
  try {
    usable = usable && conn->is_open();
  } catch (...) {
    usable = false;
  }
  if (!usable) {
    try {
      conn.reset();
    } catch (...) {  // closing a dead socket must not take the process down
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (usable) {
    idle_.push_back(std::move(conn));
  } else {
    --open_count_;
  }
  cv_.notify_one();
}

Status PostgresDatabase::TryOnce(const std::function<Status(Connection&)>& fn, bool* transient) {
  Result<ConnPtr> acquired = Acquire();
  if (!acquired.ok()) {
    *transient = true;  // the server may be restarting; worth another attempt
    return acquired.status();
  }
  ConnPtr conn = std::move(acquired).value();
  Status status;
  bool broken = false;
  try {
    pqxx::work tx(*conn);
    PostgresConnection pc(tx, parts_.password);
    try {
      status = fn(pc);
    } catch (const std::exception& e) {  // a callback's exception still rolls back
      status = Internal(std::string("exception in transaction: ") + e.what());
    }
    if (pc.failure()) {
      *transient = pc.failure()->transient;
      broken = pc.failure()->broken;
      if (status.ok()) status = pc.failure()->status;  // fn swallowed the error: still failed
    }
    if (status.ok()) tx.commit();  // otherwise ~work rolls back
  } catch (...) {
    Failure f = CurrentFailure("transaction", parts_.password);
    *transient = f.transient;
    broken = broken || f.broken;
    status = f.status;
  }
  Release(std::move(conn), broken);
  return status;
}

Status PostgresDatabase::Transact(const std::function<Status(Connection&)>& fn) {
  Status status;
  for (int attempt = 0;; ++attempt) {
    bool transient = false;
    status = TryOnce(fn, &transient);
    if (status.ok() || !transient) return status;
    if (attempt >= options_.max_retries) break;
    SleepBeforeRetry(attempt);
  }
  if (status.code() == StatusCode::kUnavailable) return status;
  return Status(StatusCode::kAborted, "gave up after " + std::to_string(options_.max_retries) +
                                          " retries: " + status.message());
}

Status PostgresDatabase::Ping() {
  return Transact([](Connection& conn) { return conn.Query("SELECT 1").status(); });
}

}  // namespace

std::string RewritePlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {  // copy a quoted literal / identifier ('' and "" escapes too)
      size_t end = sql.find(c, i + 1);
      if (end == std::string_view::npos) end = sql.size() - 1;
      out.append(sql.substr(i, end - i + 1));
      i = end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {  // line comment
      size_t end = sql.find('\n', i);
      if (end == std::string_view::npos) end = sql.size() - 1;
      out.append(sql.substr(i, end - i + 1));
      i = end;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url,
                                               const DatabaseOptions& options) {
  auto db = std::make_unique<PostgresDatabase>(url, options);
  SEGHUB_RETURN_IF_ERROR(db->Init());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace seghub::storage
