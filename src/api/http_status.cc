#include "api/http_status.h"

#include <algorithm>
#include <chrono>
#include <string>

namespace seghub::api {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kCancelled:
      return 499;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kOutOfRange:
      return 400;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kInternal:
      return 500;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kPayloadTooLarge:
      return 413;
  }
  return 500;
}

std::string_view ReasonPhrase(int http_status) {
  switch (http_status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 499:
      return "Client Closed Request";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

HttpResponse JsonError(int http_status, std::string_view code, std::string_view message) {
  // "detail" repeats the message under FastAPI's key, which the Hub's back end reads.
  return HttpResponse::Json(http_status, {{"error", message}, {"code", code}, {"detail", message}});
}

HttpResponse StatusToResponse(const Status& status) {
  if (status.ok()) return HttpResponse::Json(200, nlohmann::json::object());
  HttpResponse r =
      JsonError(HttpStatusFor(status.code()), StatusCodeName(status.code()), status.message());
  auto hint = status.retry_after();
  bool wants_hint = status.code() == StatusCode::kResourceExhausted ||
                    (status.code() == StatusCode::kUnavailable && hint.has_value());
  if (wants_hint) {
    int64_t ms = std::max<int64_t>(0, hint.value_or(std::chrono::seconds(1)).count());
    r.headers["Retry-After"] = std::to_string((ms + 999) / 1000);
  }
  return r;
}

}  // namespace seghub::api
