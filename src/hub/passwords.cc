#include "hub/passwords.h"

#include <sodium.h>

#include "hub/ids.h"

namespace seghub::hub {

Result<std::string> HashPassword(std::string_view password) {
  EnsureSodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    // The only documented failure is running out of memory for the argon2 work area.
    return ResourceExhausted("password hashing ran out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  EnsureSodium();
  // crypto_pwhash_str_verify reads a NUL-terminated string of at most STRBYTES - 1 characters.
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  char buffer[crypto_pwhash_STRBYTES] = {};
  hash.copy(buffer, hash.size());
  return crypto_pwhash_str_verify(buffer, password.data(), password.size()) == 0;
}

Status ValidatePassword(std::string_view password) {
  if (password.size() < kMinPasswordBytes) {
    return InvalidArgument("password must be at least " + std::to_string(kMinPasswordBytes) +
                           " characters long");
  }
  if (password.size() > kMaxPasswordBytes) {
    return InvalidArgument("password must be at most " + std::to_string(kMaxPasswordBytes) +
                           " bytes long");
  }
  return Status::Ok();
}

}  // namespace seghub::hub
