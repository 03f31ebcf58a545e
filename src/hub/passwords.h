// Password hashing (argon2id via libsodium) and the password policy.
//
// HashPassword and VerifyPassword are deliberately expensive (about 0.1 s and 64 MiB each at the
// "interactive" limits): callers must run them off the io threads (a worker pool), never on an
// event loop. All functions are thread-safe; they own nothing and borrow their arguments only for
// the duration of the call.
#ifndef SEGHUB_HUB_PASSWORDS_H_
#define SEGHUB_HUB_PASSWORDS_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace seghub::hub {

inline constexpr size_t kMinPasswordBytes = 8;
inline constexpr size_t kMaxPasswordBytes = 1024;

// An encoded argon2id hash ("$argon2id$v=19$m=...,t=...,p=...$salt$hash") with a fresh random salt.
// kResourceExhausted when the memory for hashing cannot be allocated.
Result<std::string> HashPassword(std::string_view password);

// True when `password` matches `hash` (as made by HashPassword). False for a wrong password and
// for a malformed hash.
bool VerifyPassword(std::string_view hash, std::string_view password);

// kInvalidArgument, with the reason, unless the password is 8..1024 bytes long.
Status ValidatePassword(std::string_view password);

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_PASSWORDS_H_
