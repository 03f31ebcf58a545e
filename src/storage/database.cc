// Database::Open dispatch, Row accessors and the convenience wrappers over Transact().
#include "storage/database.h"

#include <charconv>
#include <cstdlib>
#include <system_error>

#include "storage/postgres_database.h"
#include "storage/sqlite_database.h"

namespace seghub::storage {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

bool Row::IsNull(size_t i) const { return std::holds_alternative<std::monostate>(value(i)); }

int64_t Row::Int(size_t i) const {
  const SqlValue& v = value(i);
  if (const auto* n = std::get_if<int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (const auto* s = std::get_if<std::string>(&v)) {
    int64_t out = 0;
    auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
    if (ec == std::errc()) return out;
    // PostgreSQL numeric text such as "12.0" still reads as an integer.
    return static_cast<int64_t>(std::strtod(s->c_str(), nullptr));
  }
  return 0;
}

double Row::Double(size_t i) const {
  const SqlValue& v = value(i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* n = std::get_if<int64_t>(&v)) return static_cast<double>(*n);
  if (const auto* s = std::get_if<std::string>(&v)) return std::strtod(s->c_str(), nullptr);
  return 0.0;
}

std::string Row::Text(size_t i) const {
  const SqlValue& v = value(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[64];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), *d);  // shortest round-trip form
    return std::string(buf, ec == std::errc() ? ptr : buf);
  }
  return "";
}

Result<int64_t> Connection::Execute(std::string_view sql, const SqlParams& params) {
  SEGHUB_ASSIGN_OR_RETURN(QueryResult result, Query(sql, params));
  return result.affected;
}

Result<QueryResult> Database::Query(std::string_view sql, const SqlParams& params) {
  QueryResult out;
  Status status = Transact([&](Connection& conn) -> Status {
    SEGHUB_ASSIGN_OR_RETURN(out, conn.Query(sql, params));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

Result<int64_t> Database::Execute(std::string_view sql, const SqlParams& params) {
  SEGHUB_ASSIGN_OR_RETURN(QueryResult result, Query(sql, params));
  return result.affected;
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& url, DatabaseOptions options) {
  if (url.empty()) return InvalidArgument("empty database url");
  if (options.pool_size < 1) return InvalidArgument("pool_size must be at least 1");
  if (options.max_retries < 0) return InvalidArgument("max_retries must not be negative");
  if (StartsWith(url, "postgres://") || StartsWith(url, "postgresql://")) {
    return OpenPostgres(url, options);
  }
  std::string path = url;
  if (StartsWith(url, "sqlite://")) {
    path = url.substr(9);
  } else if (StartsWith(url, "sqlite:")) {
    path = url.substr(7);
  } else if (url.find("://") != std::string::npos) {
    return InvalidArgument("unsupported database url scheme in '" + url +
                           "' (use postgres://, postgresql:// or sqlite:)");
  }
  if (path.empty()) return InvalidArgument("sqlite url without a path: '" + url + "'");
  return OpenSqlite(path, options);
}

}  // namespace seghub::storage
