// Short-lived signed access tokens, and the secret that signs them.
//
// Format: "v1.<base64url(JSON claims)>.<base64url(HMAC-SHA256 over "v1.<claims>")>", claims
// {"sub": user id, "sid": session id, "iat": issued ms, "exp": expiry ms} (unix milliseconds).
// Access tokens are stateless: verifying one needs only the key and the time, so it costs no
// database round trip; their short lifetime bounds how long one outlives a logout.
#ifndef SEGHUB_HUB_TOKENS_H_
#define SEGHUB_HUB_TOKENS_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace seghub::hub {

inline constexpr std::string_view kAccessTokenPrefix = "v1.";
inline constexpr size_t kMinSigningKeyBytes = 32;

struct AccessClaims {
  std::string user_id;
  std::string session_id;  // the refresh-token row the session was issued with
  int64_t issued_at_ms = 0;
  int64_t expires_at_ms = 0;
};

// Signs and verifies access tokens with one HMAC-SHA256 key. Immutable after construction, so
// any thread may call Sign/Verify concurrently. Owns a copy of the key.
class TokenSigner {
 public:
  // `key` must hold at least 32 bytes (see LoadOrCreateSecret); a shorter key is a programming
  // error and aborts the process, since it would make every token forgeable.
  explicit TokenSigner(std::string key);
  ~TokenSigner();
  TokenSigner(const TokenSigner&) = delete;
  TokenSigner& operator=(const TokenSigner&) = delete;

  std::string Sign(const AccessClaims& claims) const;

  // The claims of a token this key signed that has not expired at `now_ms` (unix ms).
  // kUnauthenticated "invalid token" for anything malformed, tampered with or signed by another
  // key; kUnauthenticated "token expired" once now_ms >= expires_at_ms.
  Result<AccessClaims> Verify(std::string_view token, int64_t now_ms) const;

 private:
  std::string Mac(std::string_view signed_part) const;

  std::string key_;
};

// The 32-byte signing secret stored in `file`: read when it exists, otherwise made from random
// bytes and written atomically with mode 0600 (the parent folder is created), so tokens survive a
// restart and several processes starting together agree on one secret. kFailedPrecondition when
// the file exists but holds fewer than 32 bytes; kInternal on I/O errors. Any thread; call once
// at startup.
Result<std::string> LoadOrCreateSecret(const std::filesystem::path& file);

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_TOKENS_H_
