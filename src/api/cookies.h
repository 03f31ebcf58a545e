// Cookies (RFC 6265): parsing a request's Cookie header and building Set-Cookie values, which go
// into HttpResponse::set_cookies (one header line each).
//
// Pure functions; any thread may call them.
#ifndef SEGHUB_API_COOKIES_H_
#define SEGHUB_API_COOKIES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace seghub::api {

// "a=1; b=\"x y\"; c=" -> {a:"1", b:"x y", c:""}. Tolerant, since browsers send whatever was
// stored: pairs without '=' or with an empty or invalid name are skipped, names and values are
// trimmed, one pair of surrounding double quotes is removed. Values are not percent-decoded. When
// a name repeats, the first wins (browsers send the most specific path first).
std::map<std::string, std::string> ParseCookies(std::string_view cookie_header);

struct CookieOptions {
  std::string path = "/";
  std::optional<int64_t> max_age_s;  // unset: a session cookie; negative counts as 0
  bool http_only = true;
  bool secure = false;
  std::string same_site = "Lax";  // "Strict", "Lax" or "None" (forces Secure); "" omits it
};

// The value of one Set-Cookie header: "name=value; Path=/; Max-Age=60; HttpOnly; SameSite=Lax".
// Never produces a header that could inject attributes or lines: bytes of `name` outside RFC 6265
// token characters and bytes of `value` outside cookie-octets (space, '"', ',', ';', '\', controls,
// non-ASCII) are percent-encoded, as is '%' itself, so UrlDecode(value, false) restores the
// original. Safe values (tokens, base64url, hex) come out unchanged. `path` is encoded likewise
// (';' and controls); an unknown same_site becomes "Lax".
std::string SetCookieValue(std::string_view name, std::string_view value,
                           const CookieOptions& options = {});

// A Set-Cookie value that deletes the cookie `name` set with `path` (Max-Age=0 and an Expires in
// the past for old clients).
std::string ClearCookieValue(std::string_view name, std::string_view path = "/");

}  // namespace seghub::api

#endif  // SEGHUB_API_COOKIES_H_
