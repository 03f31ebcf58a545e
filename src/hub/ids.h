// Random ids and tokens, and SHA-256 hex digests, all from libsodium.
//
// Every function here is thread-safe and may be called from any thread; the first call
// initialises libsodium once per process (std::call_once), so callers never need to.
#ifndef SEGHUB_HUB_IDS_H_
#define SEGHUB_HUB_IDS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "storage/blob_store.h"

namespace seghub::hub {

// Initialises libsodium (idempotent, thread-safe). Aborts the process if libsodium cannot
// initialise, since no id, token or password hash would be safe without it.
void EnsureSodium();

// 16 random bytes as 32 lowercase hex characters: primary keys for Hub rows.
std::string NewId();

// `bytes` random bytes, base64url without padding (32 bytes -> 43 characters). For secrets
// handed to clients (refresh and API tokens, share links).
std::string RandomToken(size_t bytes = 32);

// SHA-256 as 64 lowercase hex characters (tokens are stored only in this form): the blob store's
// implementation, re-exported so Hub code has one place for ids and digests.
using storage::Sha256Hex;

// base64url without padding, and back. Decode returns false (and clears `out`) on any character
// outside the alphabet or a malformed length. Used by the access-token format.
std::string Base64UrlEncode(std::string_view data);
bool Base64UrlDecode(std::string_view text, std::string* out);

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_IDS_H_
