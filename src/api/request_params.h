// Typed access to request parameters (multipart form fields merged with the query string), with
// 400-class errors that name the field and what was expected. Also the ISO-8601 timestamp every
// JSON body uses. Pure functions; thread-safe.
#ifndef SEGHUB_API_REQUEST_PARAMS_H_
#define SEGHUB_API_REQUEST_PARAMS_H_

#include <map>
#include <optional>
#include <string>

#include "api/http_message.h"
#include "common/status.h"

namespace seghub::api {

using Params = std::map<std::string, std::string>;

// Query parameters overlaid by form fields (a field wins over the query).
Params MergeParams(const HttpRequest& request, const Params& form_fields);

// Absent -> nullopt. Present but not a number in [lo, hi] -> kInvalidArgument.
Result<std::optional<double>> OptionalNumber(const Params& p, const std::string& key, double lo,
                                             double hi);
Result<std::optional<int>> OptionalInt(const Params& p, const std::string& key, int lo, int hi);
// true/false/1/0/yes/no/on/off, case-insensitive; absent -> nullopt.
Result<std::optional<bool>> OptionalBool(const Params& p, const std::string& key);
std::string StringOr(const Params& p, const std::string& key, const std::string& fallback);

// The fairness key of a request: X-Client-Id, else the peer's IP address without the port.
std::string ClientId(const HttpRequest& request);

// "2026-11-23T14:50:13.039Z" (UTC, milliseconds).
std::string NowIso8601();

}  // namespace seghub::api

#endif  // SEGHUB_API_REQUEST_PARAMS_H_
