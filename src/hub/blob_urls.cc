#include "hub/blob_urls.h"

#include <sodium.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "hub/ids.h"
#include "hub/tokens.h"

namespace seghub::hub {
namespace {

Status InvalidSignature() { return Unauthenticated("invalid blob signature"); }

// Strict decimal: no sign, no spaces, no leading '+', at most 18 digits (no overflow).
bool ParseUnixSeconds(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 18) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && *out >= 0;
}

}  // namespace

BlobUrlSigner::BlobUrlSigner(std::string secret, const Clock* clock)
    : secret_(std::move(secret)), clock_(clock ? clock : SystemClock::Get()) {
  if (secret_.size() < kMinSigningKeyBytes) {
    std::fprintf(stderr, "seghub: blob URL secret has %zu bytes, need at least %zu\n",
                 secret_.size(), kMinSigningKeyBytes);
    std::abort();
  }
  EnsureSodium();
}

BlobUrlSigner::~BlobUrlSigner() { sodium_memzero(secret_.data(), secret_.size()); }

void BlobUrlSigner::Mac(std::string_view key, std::string_view expires, unsigned char* out) const {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret_.data()),
                              secret_.size());
  // '|' cannot occur in a hex key or a decimal expiry, so the split of the text is unambiguous.
  const std::string text = std::string(key) + "|" + std::string(expires);
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(text.data()),
                                text.size());
  crypto_auth_hmacsha256_final(&state, out);
  sodium_memzero(&state, sizeof(state));
}

std::string BlobUrlSigner::SignedPath(std::string_view key, std::chrono::seconds ttl) const {
  const int64_t expires_s = clock_->NowUnixMs() / 1000 + ttl.count();
  const std::string expires = std::to_string(expires_s);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  Mac(key, expires, mac);
  char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
  return std::string(kBlobUrlPrefix) + std::string(key) + "?expires=" + expires + "&sig=" + hex;
}

Status BlobUrlSigner::Verify(std::string_view key, std::string_view expires, std::string_view sig,
                             int64_t now_unix_ms) const {
  int64_t expires_s = 0;
  if (!ParseUnixSeconds(expires, &expires_s)) return InvalidSignature();
  if (sig.size() != 2 * crypto_auth_hmacsha256_BYTES) return InvalidSignature();
  unsigned char given[crypto_auth_hmacsha256_BYTES];
  size_t given_len = 0;
  if (sodium_hex2bin(given, sizeof(given), sig.data(), sig.size(), nullptr, &given_len, nullptr) !=
          0 ||
      given_len != sizeof(given)) {
    return InvalidSignature();
  }
  unsigned char expected[crypto_auth_hmacsha256_BYTES];
  Mac(key, expires, expected);
  // Check the MAC before the expiry, so an attacker learns nothing from forged expiries.
  if (sodium_memcmp(given, expected, sizeof(expected)) != 0) return InvalidSignature();
  if (now_unix_ms / 1000 >= expires_s) return Unauthenticated("blob URL expired");
  return Status::Ok();
}

Status BlobUrlSigner::VerifyNow(std::string_view key, std::string_view expires,
                                std::string_view sig) const {
  return Verify(key, expires, sig, clock_->NowUnixMs());
}

}  // namespace seghub::hub
