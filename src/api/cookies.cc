#include "api/cookies.h"

#include <algorithm>
#include <cctype>

namespace seghub::api {
namespace {

// RFC 9110 5.6.2 tchar.
bool IsTokenChar(unsigned char c) {
  return std::isalnum(c) ||
         std::string_view("!#$&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// RFC 6265 4.1.1 cookie-octet.
bool IsCookieOctet(unsigned char c) {
  return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
         (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

// RFC 6265 4.1.1 path-value: any CHAR except CTLs or ';'.
bool IsPathChar(unsigned char c) { return c >= 0x20 && c < 0x7F && c != ';'; }

std::string Encode(std::string_view text, bool (*allowed)(unsigned char)) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (allowed(c) && c != '%') {
      out.push_back(ch);
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string CanonicalSameSite(std::string_view s) {
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.empty()) return "";
  if (lower == "strict") return "Strict";
  if (lower == "none") return "None";
  return "Lax";
}

}  // namespace

std::map<std::string, std::string> ParseCookies(std::string_view cookie_header) {
  std::map<std::string, std::string> out;
  while (!cookie_header.empty()) {
    size_t semi = cookie_header.find(';');
    std::string_view pair = cookie_header.substr(0, semi);
    cookie_header.remove_prefix(semi == std::string_view::npos ? cookie_header.size() : semi + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = Trim(pair.substr(0, eq));
    std::string_view value = Trim(pair.substr(eq + 1));
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return IsTokenChar(static_cast<unsigned char>(c));
        })) {
      continue;
    }
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    out.emplace(std::string(name), std::string(value));  // first wins
  }
  return out;
}

std::string SetCookieValue(std::string_view name, std::string_view value,
                           const CookieOptions& options) {
  std::string out = Encode(name, IsTokenChar) + "=" + Encode(value, IsCookieOctet);
  if (!options.path.empty()) out += "; Path=" + Encode(options.path, IsPathChar);
  if (options.max_age_s) {
    out += "; Max-Age=" + std::to_string(std::max<int64_t>(0, *options.max_age_s));
  }
  std::string same_site = CanonicalSameSite(options.same_site);
  if (options.http_only) out += "; HttpOnly";
  // Browsers drop SameSite=None cookies that are not Secure.
  if (options.secure || same_site == "None") out += "; Secure";
  if (!same_site.empty()) out += "; SameSite=" + same_site;
  return out;
}

std::string ClearCookieValue(std::string_view name, std::string_view path) {
  std::string out = Encode(name, IsTokenChar) + "=";
  if (!path.empty()) out += "; Path=" + Encode(path, IsPathChar);
  return out + "; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
}

}  // namespace seghub::api
