#include "hub/ids.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace seghub::hub {

void EnsureSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    // sodium_init() returns 1 when already initialised (by another library): fine.
    if (sodium_init() < 0) {
      std::fprintf(stderr, "seghub: libsodium failed to initialise\n");
      std::abort();
    }
  });
}

std::string NewId() {
  EnsureSodium();
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof(bytes));
  char hex[sizeof(bytes) * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), bytes, sizeof(bytes));
  return std::string(hex, sizeof(bytes) * 2);
}

std::string RandomToken(size_t bytes) {
  EnsureSodium();
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string token = Base64UrlEncode(raw);
  sodium_memzero(raw.data(), raw.size());
  return token;
}

std::string Base64UrlEncode(std::string_view data) {
  EnsureSodium();
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::vector<char> out(sodium_base64_ENCODED_LEN(data.size(), kVariant));
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(data.data()),
                    data.size(), kVariant);
  return std::string(out.data());
}

bool Base64UrlDecode(std::string_view text, std::string* out) {
  EnsureSodium();
  out->assign(text.size(), '\0');  // decoded data is never longer than its text
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out->data()), out->size(), text.data(),
                        text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    out->clear();
    return false;
  }
  out->resize(len);
  return true;
}

}  // namespace seghub::hub
