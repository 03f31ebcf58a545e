#include "hub/tokens.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <system_error>

#include "hub/ids.h"

namespace seghub::hub {
namespace {

Status InvalidToken() { return Status(StatusCode::kUnauthenticated, "invalid token"); }

// Parses the decoded claims; false for anything but an object with exactly the expected types.
bool ParseClaims(const std::string& json_text, AccessClaims* claims) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  auto text = [&](const char* k) { return j.contains(k) && j[k].is_string(); };
  auto integer = [&](const char* k) { return j.contains(k) && j[k].is_number_integer(); };
  if (!text("sub") || !text("sid") || !integer("iat") || !integer("exp")) return false;
  claims->user_id = j["sub"].get<std::string>();
  claims->session_id = j["sid"].get<std::string>();
  claims->issued_at_ms = j["iat"].get<int64_t>();
  claims->expires_at_ms = j["exp"].get<int64_t>();
  return !claims->user_id.empty();
}

Status ErrnoStatus(const std::string& what, const std::filesystem::path& path) {
  return Internal(what + " " + path.string() + ": " + std::strerror(errno));
}

Result<std::string> ReadSecret(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return ErrnoStatus("cannot read", file);
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (secret.size() < kMinSigningKeyBytes) {
    return FailedPrecondition("token secret " + file.string() + " holds " +
                              std::to_string(secret.size()) + " bytes, expected at least " +
                              std::to_string(kMinSigningKeyBytes));
  }
  return secret;
}

// Writes `data` to a fresh 0600 file at `path` and fsyncs it.
Status WritePrivateFile(const std::filesystem::path& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("cannot create", path);
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
            ::fsync(fd) == 0;
  Status status = ok ? Status::Ok() : ErrnoStatus("cannot write", path);
  ::close(fd);
  return status;
}

}  // namespace

TokenSigner::TokenSigner(std::string key) : key_(std::move(key)) {
  if (key_.size() < kMinSigningKeyBytes) {
    std::fprintf(stderr, "seghub: token signing key has %zu bytes, need at least %zu\n",
                 key_.size(), kMinSigningKeyBytes);
    std::abort();
  }
  EnsureSodium();
}

TokenSigner::~TokenSigner() { sodium_memzero(key_.data(), key_.size()); }

std::string TokenSigner::Mac(std::string_view signed_part) const {
  crypto_auth_hmacsha256_state state;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key_.data()),
                              key_.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(signed_part.data()),
                                signed_part.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return std::string(reinterpret_cast<const char*>(mac), sizeof(mac));
}

std::string TokenSigner::Sign(const AccessClaims& claims) const {
  nlohmann::json j = {{"sub", claims.user_id},
                      {"sid", claims.session_id},
                      {"iat", claims.issued_at_ms},
                      {"exp", claims.expires_at_ms}};
  std::string signed_part = std::string(kAccessTokenPrefix) + Base64UrlEncode(j.dump());
  return signed_part + "." + Base64UrlEncode(Mac(signed_part));
}

Result<AccessClaims> TokenSigner::Verify(std::string_view token, int64_t now_ms) const {
  if (!token.starts_with(kAccessTokenPrefix)) return InvalidToken();
  size_t dot = token.rfind('.');
  if (dot < kAccessTokenPrefix.size()) return InvalidToken();
  std::string_view signed_part = token.substr(0, dot);
  std::string signature;
  if (!Base64UrlDecode(token.substr(dot + 1), &signature) ||
      signature.size() != crypto_auth_hmacsha256_BYTES) {
    return InvalidToken();
  }
  // Constant time, so a forger learns nothing from how long a rejection takes.
  std::string expected = Mac(signed_part);
  if (sodium_memcmp(expected.data(), signature.data(), expected.size()) != 0) {
    return InvalidToken();
  }
  std::string json_text;
  AccessClaims claims;
  if (!Base64UrlDecode(signed_part.substr(kAccessTokenPrefix.size()), &json_text) ||
      !ParseClaims(json_text, &claims)) {
    return InvalidToken();
  }
  if (now_ms >= claims.expires_at_ms) {
    return Status(StatusCode::kUnauthenticated, "token expired");
  }
  return claims;
}

Result<std::string> LoadOrCreateSecret(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) return ReadSecret(file);
  if (file.has_parent_path()) {
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) return Internal("cannot create " + file.parent_path().string() + ": " + ec.message());
  }
  // Written under a unique temporary name and published with link(), which fails rather than
  // replaces when the target exists: a concurrent starter's secret wins and both read it back.
  std::string secret(kMinSigningKeyBytes, '\0');
  EnsureSodium();
  randombytes_buf(secret.data(), secret.size());
  std::filesystem::path tmp = file;
  tmp += ".tmp-" + NewId();
  SEGHUB_RETURN_IF_ERROR(WritePrivateFile(tmp, secret));
  int rc = ::link(tmp.c_str(), file.c_str());
  int link_errno = errno;
  std::filesystem::remove(tmp, ec);
  if (rc != 0 && link_errno != EEXIST) {
    errno = link_errno;
    return ErrnoStatus("cannot publish", file);
  }
  if (rc != 0) return ReadSecret(file);
  return secret;
}

}  // namespace seghub::hub
