// The one place where a seghub::Status becomes an HTTP status, headers and a JSON error body.
//
// Error bodies everywhere in the API have the shape
// {"error": "<message>", "code": "<NAME>", "detail": "<message>"} ("detail" as FastAPI, which the
// original Hub ML service used, names it).
// Pure functions; any thread may call them.
#ifndef SEGHUB_API_HTTP_STATUS_H_
#define SEGHUB_API_HTTP_STATUS_H_

#include <string_view>

#include "api/http_message.h"
#include "common/status.h"

namespace seghub::api {

// HTTP status for a StatusCode (kOk -> 200). kCancelled maps to nginx's 499: the client went away.
int HttpStatusFor(StatusCode code);

// Standard reason phrase, or a non-standard one for 499; "Unknown" for anything else.
std::string_view ReasonPhrase(int http_status);

// A JSON error response. `code` is the machine-readable name ("NOT_FOUND", "METHOD_NOT_ALLOWED").
HttpResponse JsonError(int http_status, std::string_view code, std::string_view message);

// The error response for a non-OK status, with Retry-After (whole seconds, rounded up) for
// kResourceExhausted (default 1 s when the status has no hint) and for kUnavailable when the
// status carries a hint. An OK status yields 200 {}.
HttpResponse StatusToResponse(const Status& status);

}  // namespace seghub::api

#endif  // SEGHUB_API_HTTP_STATUS_H_
