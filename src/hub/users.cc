#include "hub/users.h"

#include <algorithm>
#include <utility>

#include "hub/ids.h"
#include "hub/passwords.h"

namespace seghub::hub {
namespace {

constexpr size_t kMaxEmailBytes = 254;
constexpr size_t kMaxLocalPartBytes = 64;
constexpr size_t kMaxNameChars = 200;
// last_used_at is bookkeeping for the user, not an audit log: one write a minute is plenty and
// keeps a busy script from turning every request into a write transaction.
constexpr int64_t kLastUsedGranularityMs = 60'000;

constexpr const char* kUserColumns = "u.id, u.email, u.name, u.created_at";

Status Unauthenticated(std::string message) {
  return Status(StatusCode::kUnauthenticated, std::move(message));
}

Status InvalidCredentials() { return Unauthenticated("invalid email or password"); }

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

// Trimmed display name (1..200 characters, no control characters); empty means `fallback`.
Result<std::string> NormalizeName(std::string_view name, std::string_view fallback,
                                  std::string_view what) {
  name = Trim(name);
  if (name.empty()) name = fallback;
  if (name.empty()) return InvalidArgument(std::string(what) + " must not be empty");
  // UTF-8 characters: every byte that is not a continuation byte starts one.
  size_t chars = std::count_if(name.begin(), name.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  });
  if (chars > kMaxNameChars) {
    return InvalidArgument(std::string(what) + " must be at most " + std::to_string(kMaxNameChars) +
                           " characters");
  }
  if (std::any_of(name.begin(), name.end(),
                  [](char c) { return IsControl(static_cast<unsigned char>(c)); })) {
    return InvalidArgument(std::string(what) + " must not contain control characters");
  }
  return std::string(name);
}

// Reads kUserColumns starting at column `first`.
User UserFromRow(const storage::Row& row, size_t first = 0) {
  return User{row.Text(first), row.Text(first + 1), row.Text(first + 2), row.Int(first + 3)};
}

// A fixed argon2id hash to verify against when the email is unknown, so that path costs the same
// as a wrong password. Made once per process (thread-safe static initialisation).
const std::string& DummyHash() {
  static const std::string hash = [] {
    Result<std::string> h = HashPassword(RandomToken());
    return h.ok() ? *h : std::string();
  }();
  return hash;
}

}  // namespace

Result<std::string> NormalizeEmail(std::string_view email) {
  email = Trim(email);
  if (email.empty()) return InvalidArgument("email must not be empty");
  if (email.size() > kMaxEmailBytes) {
    return InvalidArgument("email must be at most " + std::to_string(kMaxEmailBytes) +
                           " characters");
  }
  std::string out(email);
  for (char& c : out) {
    if (IsControl(static_cast<unsigned char>(c)) || c == ' ') {
      return InvalidArgument("email must not contain spaces or control characters");
    }
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  size_t at = out.find('@');
  if (at == std::string::npos || out.find('@', at + 1) != std::string::npos) {
    return InvalidArgument("email must contain exactly one '@'");
  }
  std::string_view local = std::string_view(out).substr(0, at);
  std::string_view domain = std::string_view(out).substr(at + 1);
  if (local.empty() || local.size() > kMaxLocalPartBytes) {
    return InvalidArgument("email must have 1 to 64 characters before the '@'");
  }
  size_t dot = domain.find('.');
  if (dot == std::string_view::npos || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return InvalidArgument("email domain must look like example.org");
  }
  return out;
}

UserService::UserService(storage::Database* db, const TokenSigner* signer, const Clock* clock,
                         AuthOptions options)
    : db_(db), signer_(signer), clock_(clock), options_(options) {}

int64_t UserService::NowMs() const { return clock_->NowUnixMs(); }

Result<User> UserService::Register(std::string_view email, std::string_view password,
                                   std::string_view name) {
  SEGHUB_ASSIGN_OR_RETURN(std::string normalized, NormalizeEmail(email));
  SEGHUB_RETURN_IF_ERROR(ValidatePassword(password));
  std::string_view local = std::string_view(normalized).substr(0, normalized.find('@'));
  SEGHUB_ASSIGN_OR_RETURN(std::string display, NormalizeName(name, local, "name"));
  // Checked before hashing so a duplicate costs no argon2 run; the UNIQUE index decides races.
  Result<User> existing = FindByEmail(normalized);
  if (existing.ok()) return AlreadyExists("email already registered");
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();

  SEGHUB_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  User user{NewId(), normalized, display, NowMs()};
  Result<int64_t> inserted = db_->Execute(
      "INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
      {user.id, user.email, user.name, hash, user.created_at_ms});
  if (!inserted.ok()) {
    if (inserted.status().code() == StatusCode::kAlreadyExists) {
      return AlreadyExists("email already registered");
    }
    return inserted.status();
  }
  return user;
}

Result<Session> UserService::Login(std::string_view email, std::string_view password) {
  // Over-long passwords are refused before any lookup, so this path says nothing about the email.
  if (password.size() > kMaxPasswordBytes) return InvalidCredentials();
  Result<std::string> normalized = NormalizeEmail(email);
  std::optional<User> user;
  std::string hash;
  if (normalized.ok()) {
    SEGHUB_ASSIGN_OR_RETURN(storage::QueryResult rows,
                            db_->Query(std::string("SELECT ") + kUserColumns +
                                           ", u.password_hash FROM users u WHERE u.email = ?",
                                       {*normalized}));
    if (!rows.empty()) {
      user = UserFromRow(rows.rows[0]);
      hash = rows.rows[0].Text(4);
    }
  }
  if (!user) {
    VerifyPassword(DummyHash(), password);  // equalises timing with a wrong password
    return InvalidCredentials();
  }
  if (!VerifyPassword(hash, password)) return InvalidCredentials();

  Session session;
  int64_t now = NowMs();
  SEGHUB_RETURN_IF_ERROR(db_->Transact(
      [&](storage::Connection& conn) { return IssueSession(conn, *user, now, &session); }));
  return session;
}

Status UserService::IssueSession(storage::Connection& conn, const User& user, int64_t now_ms,
                                 Session* session) {
  // Housekeeping: expired rows can never be used again. Revoked but unexpired rows stay, since
  // they are what reuse detection matches against.
  SEGHUB_RETURN_IF_ERROR(
      conn.Execute("DELETE FROM refresh_tokens WHERE user_id = ? AND expires_at <= ?",
                   {user.id, now_ms})
          .status());
  std::string refresh = RandomToken();
  std::string session_id = NewId();
  int64_t refresh_expires =
      now_ms + std::chrono::duration_cast<std::chrono::milliseconds>(options_.refresh_ttl).count();
  SEGHUB_RETURN_IF_ERROR(
      conn.Execute("INSERT INTO refresh_tokens (id, user_id, token_hash, expires_at, revoked, "
                   "created_at) VALUES (?, ?, ?, ?, 0, ?)",
                   {session_id, user.id, Sha256Hex(refresh), refresh_expires, now_ms})
          .status());
  AccessClaims claims{
      user.id, session_id, now_ms,
      now_ms + std::chrono::duration_cast<std::chrono::milliseconds>(options_.access_ttl).count()};
  *session = Session{user, signer_->Sign(claims), claims.expires_at_ms, std::move(refresh),
                     refresh_expires};
  return Status::Ok();
}

Result<Session> UserService::Refresh(std::string_view refresh_token) {
  if (refresh_token.empty()) return Unauthenticated("invalid refresh token");
  std::string hash = Sha256Hex(refresh_token);
  int64_t now = NowMs();
  Session session;
  // A rejection that must still commit (the theft-detection revocation) is returned through
  // `rejection` with an OK transaction status, since an error would roll the revocation back.
  Status rejection;
  Status status = db_->Transact([&](storage::Connection& conn) -> Status {
    rejection = Status::Ok();
    SEGHUB_ASSIGN_OR_RETURN(
        storage::QueryResult rows,
        conn.Query(std::string("SELECT r.id, r.revoked, r.expires_at, ") + kUserColumns +
                       " FROM refresh_tokens r JOIN users u ON u.id = r.user_id"
                       " WHERE r.token_hash = ?",
                   {hash}));
    if (rows.empty()) {
      rejection = Unauthenticated("invalid refresh token");
      return Status::Ok();
    }
    const storage::Row& row = rows.rows[0];
    User user = UserFromRow(row, 3);
    bool revoked = row.Int(1) != 0;
    if (!revoked && now >= row.Int(2)) {
      rejection = Unauthenticated("refresh token expired");
      return Status::Ok();
    }
    if (!revoked) {
      // Conditional, so of two concurrent refreshes with one token only one rotates it.
      SEGHUB_ASSIGN_OR_RETURN(
          int64_t changed,
          conn.Execute("UPDATE refresh_tokens SET revoked = 1 WHERE id = ? AND revoked = 0",
                       {row.Text(0)}));
      if (changed == 1) return IssueSession(conn, user, now, &session);
    }
    // The token was already used: someone holds a copy. End every session of this user.
    SEGHUB_RETURN_IF_ERROR(
        conn.Execute("UPDATE refresh_tokens SET revoked = 1 WHERE user_id = ? AND revoked = 0",
                     {user.id})
            .status());
    rejection = Unauthenticated("refresh token already used; all sessions were revoked");
    return Status::Ok();
  });
  SEGHUB_RETURN_IF_ERROR(status);
  SEGHUB_RETURN_IF_ERROR(rejection);
  return session;
}

Status UserService::Logout(std::string_view refresh_token) {
  if (refresh_token.empty()) return Status::Ok();
  return db_
      ->Execute("UPDATE refresh_tokens SET revoked = 1 WHERE token_hash = ? AND revoked = 0",
                {Sha256Hex(refresh_token)})
      .status();
}

Result<User> UserService::Authenticate(std::string_view bearer) {
  if (bearer.starts_with(kApiTokenPrefix)) return AuthenticateApiToken(bearer);
  if (!bearer.starts_with(kAccessTokenPrefix)) return Unauthenticated("invalid token");
  SEGHUB_ASSIGN_OR_RETURN(AccessClaims claims, signer_->Verify(bearer, NowMs()));
  Result<User> user = GetUser(claims.user_id);
  if (!user.ok() && user.status().code() == StatusCode::kNotFound) {
    return Unauthenticated("invalid token");  // the user was deleted after the token was issued
  }
  return user;
}

Result<User> UserService::AuthenticateApiToken(std::string_view token) {
  SEGHUB_ASSIGN_OR_RETURN(
      storage::QueryResult rows,
      db_->Query(std::string("SELECT t.id, t.last_used_at, ") + kUserColumns +
                     " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
                 {Sha256Hex(token)}));
  if (rows.empty()) return Unauthenticated("invalid token");
  const storage::Row& row = rows.rows[0];
  int64_t now = NowMs();
  if (row.IsNull(1) || now - row.Int(1) >= kLastUsedGranularityMs) {
    SEGHUB_RETURN_IF_ERROR(db_->Execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND "
                                        "(last_used_at IS NULL OR last_used_at <= ?)",
                                        {now, row.Text(0), now - kLastUsedGranularityMs})
                               .status());
  }
  return UserFromRow(row, 2);
}

Result<UserService::CreatedApiToken> UserService::CreateApiToken(const std::string& user_id,
                                                                 std::string_view name) {
  SEGHUB_ASSIGN_OR_RETURN(std::string token_name, NormalizeName(name, "", "token name"));
  CreatedApiToken created;
  created.info = ApiTokenInfo{NewId(), token_name, NowMs(), std::nullopt};
  created.token = std::string(kApiTokenPrefix) + RandomToken();
  SEGHUB_RETURN_IF_ERROR(db_->Transact([&](storage::Connection& conn) -> Status {
    SEGHUB_ASSIGN_OR_RETURN(storage::QueryResult users,
                            conn.Query("SELECT 1 FROM users WHERE id = ?", {user_id}));
    if (users.empty()) return NotFound("user not found");
    return conn
        .Execute(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            {created.info.id, user_id, created.info.name, Sha256Hex(created.token),
             created.info.created_at_ms})
        .status();
  }));
  return created;
}

Result<std::vector<ApiTokenInfo>> UserService::ListApiTokens(const std::string& user_id) {
  SEGHUB_ASSIGN_OR_RETURN(
      storage::QueryResult rows,
      db_->Query("SELECT id, name, created_at, last_used_at FROM api_tokens WHERE user_id = ? "
                 "ORDER BY created_at, id",
                 {user_id}));
  std::vector<ApiTokenInfo> tokens;
  tokens.reserve(rows.rows.size());
  for (const storage::Row& row : rows.rows) {
    ApiTokenInfo info{row.Text(0), row.Text(1), row.Int(2), std::nullopt};
    if (!row.IsNull(3)) info.last_used_at_ms = row.Int(3);
    tokens.push_back(std::move(info));
  }
  return tokens;
}

Status UserService::RevokeApiToken(const std::string& user_id, const std::string& token_id) {
  SEGHUB_ASSIGN_OR_RETURN(
      int64_t deleted,
      db_->Execute("DELETE FROM api_tokens WHERE id = ? AND user_id = ?", {token_id, user_id}));
  if (deleted == 0) return NotFound("api token not found");
  return Status::Ok();
}

Result<User> UserService::GetUser(const std::string& user_id) {
  SEGHUB_ASSIGN_OR_RETURN(
      storage::QueryResult rows,
      db_->Query(std::string("SELECT ") + kUserColumns + " FROM users u WHERE u.id = ?",
                 {user_id}));
  if (rows.empty()) return NotFound("user not found");
  return UserFromRow(rows.rows[0]);
}

Result<User> UserService::FindByEmail(std::string_view email) {
  Result<std::string> normalized = NormalizeEmail(email);
  if (!normalized.ok()) return NotFound("user not found");
  SEGHUB_ASSIGN_OR_RETURN(
      storage::QueryResult rows,
      db_->Query(std::string("SELECT ") + kUserColumns + " FROM users u WHERE u.email = ?",
                 {*normalized}));
  if (rows.empty()) return NotFound("user not found");
  return UserFromRow(rows.rows[0]);
}

}  // namespace seghub::hub
