#include "api/request_params.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace seghub::api {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string Trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

Params MergeParams(const HttpRequest& request, const Params& form_fields) {
  Params merged = request.query;
  for (const auto& [k, v] : form_fields) merged[k] = v;
  return merged;
}

Result<std::optional<double>> OptionalNumber(const Params& p, const std::string& key, double lo,
                                             double hi) {
  auto it = p.find(key);
  if (it == p.end()) return std::optional<double>();
  std::string text = Trimmed(it->second);
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
    return InvalidArgument("field '" + key + "' must be a number, got '" + it->second + "'");
  }
  if (v < lo || v > hi) {
    char buf[128];
    std::snprintf(buf, sizeof(buf), "field '%s' must lie in [%g, %g], got %g", key.c_str(), lo, hi,
                  v);
    return InvalidArgument(buf);
  }
  return std::optional<double>(v);
}

Result<std::optional<int>> OptionalInt(const Params& p, const std::string& key, int lo, int hi) {
  SEGHUB_ASSIGN_OR_RETURN(std::optional<double> v, OptionalNumber(p, key, lo, hi));
  if (!v) return std::optional<int>();
  if (*v != std::floor(*v)) {
    return InvalidArgument("field '" + key + "' must be a whole number");
  }
  return std::optional<int>(static_cast<int>(*v));
}

Result<std::optional<bool>> OptionalBool(const Params& p, const std::string& key) {
  auto it = p.find(key);
  if (it == p.end()) return std::optional<bool>();
  std::string v = Lower(Trimmed(it->second));
  if (v == "true" || v == "1" || v == "yes" || v == "on") return std::optional<bool>(true);
  if (v == "false" || v == "0" || v == "no" || v == "off") return std::optional<bool>(false);
  return InvalidArgument("field '" + key + "' must be true or false, got '" + it->second + "'");
}

std::string StringOr(const Params& p, const std::string& key, const std::string& fallback) {
  auto it = p.find(key);
  return it == p.end() || Trimmed(it->second).empty() ? fallback : Trimmed(it->second);
}

std::string ClientId(const HttpRequest& request) {
  std::string id = request.Header("X-Client-Id");
  if (!id.empty()) return id.substr(0, 128);
  const std::string& addr = request.remote_address;
  size_t colon = addr.rfind(':');
  return colon == std::string::npos ? addr : addr.substr(0, colon);
}

std::string NowIso8601() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];  // sized for any int fields, which silences -Wformat-truncation
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return buf;
}

}  // namespace seghub::api
