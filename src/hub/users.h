// Users, sessions (refresh tokens) and API tokens: registration, login, token rotation and
// bearer authentication for the Hub.
//
// Sessions: Login issues a short-lived access token (tokens.h, verified without the database)
// and a long-lived refresh token. Refresh rotates: the presented refresh token is revoked and a new
// pair issued; presenting an already revoked one means it was copied, so every refresh token of
// that user is revoked (theft detection). API tokens ("shk_...") are long-lived, per-user,
// revocable credentials for scripts. Refresh and API tokens are stored only as SHA-256 hashes.
//
// Times: unix ms from Clock::NowUnixMs() (stored in rows and token claims); a ManualClock therefore
// drives expiry in tests.
#ifndef SEGHUB_HUB_USERS_H_
#define SEGHUB_HUB_USERS_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "hub/tokens.h"
#include "storage/database.h"

namespace seghub::hub {

inline constexpr std::string_view kApiTokenPrefix = "shk_";

struct User {
  std::string id;
  std::string email;
  std::string name;
  int64_t created_at_ms = 0;
};

struct Session {
  User user;
  std::string access_token;
  int64_t access_expires_at_ms = 0;
  std::string refresh_token;
  int64_t refresh_expires_at_ms = 0;
};

struct ApiTokenInfo {
  std::string id;
  std::string name;
  int64_t created_at_ms = 0;
  std::optional<int64_t> last_used_at_ms;
};

struct AuthOptions {
  std::chrono::seconds access_ttl{15 * 60};
  std::chrono::seconds refresh_ttl{7 * 24 * 3600};
};

// Trimmed, lower-cased email, or kInvalidArgument saying why it is not one (one '@', a non-empty
// local part, a dot inside the domain, at most 254 characters, no spaces or control characters).
Result<std::string> NormalizeEmail(std::string_view email);

// Thread-safe: no mutable state beyond the database, so any thread may call any method
// concurrently. Register, Login (argon2id) are CPU- and memory-heavy and every method does
// blocking database I/O: call them from worker threads, not from io threads.
class UserService {
 public:
  // Borrows db, signer and clock; all must outlive the service.
  UserService(storage::Database* db, const TokenSigner* signer, const Clock* clock,
              AuthOptions options = {});

  // kAlreadyExists "email already registered"; kInvalidArgument for a bad email, password or
  // name. An empty name defaults to the part of the email before '@'.
  Result<User> Register(std::string_view email, std::string_view password, std::string_view name);

  // kUnauthenticated "invalid email or password" for an unknown email and a wrong password alike
  // (an unknown email still costs one hash verification, so timing does not tell them apart).
  Result<Session> Login(std::string_view email, std::string_view password);

  // Rotates the refresh token (see the header comment). kUnauthenticated for an unknown, expired
  // or revoked token; a revoked one also revokes all of the user's refresh tokens.
  Result<Session> Refresh(std::string_view refresh_token);

  // Revokes the refresh token. Idempotent: unknown and already revoked tokens are OK.
  Status Logout(std::string_view refresh_token);

  // The user behind an access token ("v1....") or an API token ("shk_..."); kUnauthenticated
  // otherwise (also when the user no longer exists). Updates an API token's last_used_at at most
  // once a minute.
  Result<User> Authenticate(std::string_view bearer);

  struct CreatedApiToken {
    ApiTokenInfo info;
    std::string token;  // the secret; shown to the user once, only its hash is kept
  };
  // kInvalidArgument for a name that is empty or over 200 characters; kNotFound for no such user.
  Result<CreatedApiToken> CreateApiToken(const std::string& user_id, std::string_view name);
  // Oldest first.
  Result<std::vector<ApiTokenInfo>> ListApiTokens(const std::string& user_id);
  // kNotFound when the token does not exist or is not the user's.
  Status RevokeApiToken(const std::string& user_id, const std::string& token_id);

  Result<User> GetUser(const std::string& user_id);  // kNotFound
  Result<User> FindByEmail(std::string_view email);  // kNotFound (also for a malformed email)

 private:
  int64_t NowMs() const;
  // Inserts a refresh-token row for `user` inside `conn` and fills `session` with both tokens.
  Status IssueSession(storage::Connection& conn, const User& user, int64_t now_ms,
                      Session* session);
  Result<User> AuthenticateApiToken(std::string_view token);

  storage::Database* db_;
  const TokenSigner* signer_;
  const Clock* clock_;
  AuthOptions options_;
};

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_USERS_H_
