// BlobUrlSigner: signed, expiring URLs for the API's internal blob route, so that workers on
// other machines can read image bytes over HTTP without a shared filesystem and without a user
// session. API servers and workers share one secret (--blob-secret-file); whoever holds it can
// read any blob, so it must never reach a browser.
//
// URL: "/internal/blobs/<key>?expires=<unix seconds>&sig=<hex HMAC-SHA256(secret,
// "<key>|<expires>")>". The expiry is in the signed text, so a captured URL stops working at
// `expires`; the key is the blob's content hash, so a URL grants exactly one immutable blob.
//
// Threading: immutable after construction; any thread may call every method concurrently. Owns
// a copy of the secret (wiped on destruction); the clock is borrowed and must outlive it.
#ifndef SEGHUB_HUB_BLOB_URLS_H_
#define SEGHUB_HUB_BLOB_URLS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace seghub::hub {

inline constexpr std::string_view kBlobUrlPrefix = "/internal/blobs/";

class BlobUrlSigner {
 public:
  // `secret` must hold at least kMinSigningKeyBytes (32) bytes (see LoadOrCreateSecret); a
  // shorter one is a programming error and aborts, since it would make every URL forgeable.
  // `clock` null = SystemClock; it dates SignedPath's expiry and VerifyNow's check.
  explicit BlobUrlSigner(std::string secret, const Clock* clock = nullptr);
  ~BlobUrlSigner();
  BlobUrlSigner(const BlobUrlSigner&) = delete;
  BlobUrlSigner& operator=(const BlobUrlSigner&) = delete;

  // "/internal/blobs/<key>?expires=<now + ttl, unix s>&sig=<64 hex>". `key` is not validated
  // here (the route rejects malformed keys); it must not need URL escaping (blob keys are hex).
  std::string SignedPath(std::string_view key, std::chrono::seconds ttl) const;

  // Ok when `sig` is this secret's signature of "<key>|<expires>" and now_unix_ms is before
  // `expires` (unix seconds, decimal). kUnauthenticated "invalid blob signature" for a malformed
  // or wrong signature or expiry, "blob URL expired" once expired. Constant-time in the MAC.
  Status Verify(std::string_view key, std::string_view expires, std::string_view sig,
                int64_t now_unix_ms) const;
  // Verify at the clock's current wall time.
  Status VerifyNow(std::string_view key, std::string_view expires, std::string_view sig) const;

 private:
  void Mac(std::string_view key, std::string_view expires, unsigned char* out) const;

  std::string secret_;
  const Clock* const clock_;
};

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_BLOB_URLS_H_
