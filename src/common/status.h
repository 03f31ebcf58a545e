// Status and Result<T>: how errors cross module boundaries in seghub.
//
// A Status is a code plus a human-readable message. Codes follow gRPC's canonical set so the
// mapping to HTTP (api/http_status.cc, the only place that does it) is mechanical. A Status may
// carry a retry-after hint (for kResourceExhausted / kUnavailable) that the API turns into a
// Retry-After header. Status is a cheap value type; thread-compatible.
#ifndef SEGHUB_COMMON_STATUS_H_
#define SEGHUB_COMMON_STATUS_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace seghub {

enum class StatusCode {
  kOk = 0,
  kCancelled,
  kInvalidArgument,
  kDeadlineExceeded,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,
  kFailedPrecondition,
  kAborted,
  kOutOfRange,
  kUnimplemented,
  kInternal,
  kUnavailable,
  kPayloadTooLarge,
};

std::string_view StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Hint for the client: when to try again. Only meaningful for overload-type errors.
  std::optional<std::chrono::milliseconds> retry_after() const { return retry_after_; }
  Status& WithRetryAfter(std::chrono::milliseconds d) {
    retry_after_ = d;
    return *this;
  }

  // "INVALID_ARGUMENT: message"
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::optional<std::chrono::milliseconds> retry_after_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status PayloadTooLarge(std::string m) {
  return {StatusCode::kPayloadTooLarge, std::move(m)};
}

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace seghub

#define SEGHUB_CONCAT_INNER_(a, b) a##b
#define SEGHUB_CONCAT_(a, b) SEGHUB_CONCAT_INNER_(a, b)

#define SEGHUB_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::seghub::Status seghub_status_ = (expr);        \
    if (!seghub_status_.ok()) return seghub_status_; \
  } while (0)

#define SEGHUB_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

#define SEGHUB_ASSIGN_OR_RETURN(lhs, expr) \
  SEGHUB_ASSIGN_OR_RETURN_IMPL_(SEGHUB_CONCAT_(seghub_result_, __LINE__), lhs, expr)

#endif  // SEGHUB_COMMON_STATUS_H_
