// HttpRequest / HttpResponse: seghub's own HTTP message types, so route files never include Beast.
//
// Value types; thread-compatible. The server fills HttpRequest on an io thread and hands it to a
// handler by value (moved); the handler owns it from then on.
#ifndef SEGHUB_API_HTTP_MESSAGE_H_
#define SEGHUB_API_HTTP_MESSAGE_H_

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace seghub::api {

// ASCII case-insensitive ordering: HTTP header names are case-insensitive (RFC 9110 5.1).
struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

// Repeated headers are folded into one comma-separated value, as RFC 9110 5.3 allows.
using HeaderMap = std::map<std::string, std::string, CaseInsensitiveLess>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent (upper case by convention)
  std::string target;  // raw request target, e.g. "/v2/models/a%20b/infer?x=1"
  std::string path;    // target without the query, still percent-encoded
  std::map<std::string, std::string> query;        // decoded; a repeated key keeps the last
  std::map<std::string, std::string> path_params;  // decoded; filled by the Router
  std::string route;  // the matched pattern ("/v2/models/{model}/infer"); filled by the Router
  HeaderMap headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1:53122"

  // The header's value, or `fallback` when absent.
  std::string Header(std::string_view name, std::string_view fallback = {}) const;
  std::optional<std::string> Query(std::string_view key) const;
  // The {param} value; empty when the pattern had no such parameter.
  std::string Param(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  HeaderMap headers;  // extra headers; Content-Type and Content-Length are set by the server
  // One Set-Cookie line each (a HeaderMap would fold them, which breaks cookies); see cookies.h.
  std::vector<std::string> set_cookies;
  std::string body;

  static HttpResponse Json(int status, const nlohmann::json& body);
  static HttpResponse Text(int status, std::string body,
                           std::string content_type = "text/plain; charset=utf-8");
};

// Percent-decoding. With `plus_as_space` (query strings, form encoding) '+' becomes ' '.
// kInvalidArgument on a truncated or non-hex escape.
Result<std::string> UrlDecode(std::string_view text, bool plus_as_space);

// Parses "a=1&b=x%20y&flag" into {a:"1", b:"x y", flag:""}. kInvalidArgument on bad escapes.
Result<std::map<std::string, std::string>> ParseQuery(std::string_view query);

// Splits `target` into path and decoded query; kInvalidArgument when the target is not an
// origin-form path ("/...") or its query has bad escapes.
Status SplitTarget(std::string_view target, std::string* path,
                   std::map<std::string, std::string>* query);

}  // namespace seghub::api

#endif  // SEGHUB_API_HTTP_MESSAGE_H_
