#include "api/http_status.h"

#include <gtest/gtest.h>

#include <chrono>
#include <utility>
#include <vector>

namespace seghub::api {
namespace {

using std::chrono::milliseconds;

TEST(HttpStatusTest, MapsEveryCode) {
  const std::vector<std::pair<StatusCode, int>> expected = {
      {StatusCode::kOk, 200},
      {StatusCode::kInvalidArgument, 400},
      {StatusCode::kNotFound, 404},
      {StatusCode::kAlreadyExists, 409},
      {StatusCode::kPermissionDenied, 403},
      {StatusCode::kUnauthenticated, 401},
      {StatusCode::kResourceExhausted, 429},
      {StatusCode::kFailedPrecondition, 409},
      {StatusCode::kAborted, 409},
      {StatusCode::kOutOfRange, 400},
      {StatusCode::kUnimplemented, 501},
      {StatusCode::kUnavailable, 503},
      {StatusCode::kDeadlineExceeded, 504},
      {StatusCode::kCancelled, 499},
      {StatusCode::kPayloadTooLarge, 413},
      {StatusCode::kInternal, 500},
  };
  for (const auto& [code, http] : expected) {
    EXPECT_EQ(HttpStatusFor(code), http) << StatusCodeName(code);
  }
}

TEST(HttpStatusTest, ErrorBodyHasMessageAndCodeName) {
  HttpResponse r = StatusToResponse(NotFound("model 'x' not found"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"], "model 'x' not found");
  EXPECT_EQ(body["code"], "NOT_FOUND");
  EXPECT_EQ(body["detail"], "model 'x' not found");
  EXPECT_EQ(r.headers.count("Retry-After"), 0u);
}

TEST(HttpStatusTest, ResourceExhaustedAlwaysHasRetryAfterRoundedUp) {
  EXPECT_EQ(StatusToResponse(ResourceExhausted("queue full")).headers.at("Retry-After"), "1");
  Status s = ResourceExhausted("queue full");
  s.WithRetryAfter(milliseconds(2001));
  HttpResponse r = StatusToResponse(s);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers.at("retry-after"), "3");
  s.WithRetryAfter(milliseconds(3000));
  EXPECT_EQ(StatusToResponse(s).headers.at("Retry-After"), "3");
}

TEST(HttpStatusTest, UnavailableHasRetryAfterOnlyWithAHint) {
  EXPECT_EQ(StatusToResponse(Unavailable("loading")).headers.count("Retry-After"), 0u);
  Status s = Unavailable("loading");
  s.WithRetryAfter(milliseconds(500));
  HttpResponse r = StatusToResponse(s);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.headers.at("Retry-After"), "1");
}

TEST(HttpStatusTest, OtherCodesIgnoreRetryHints) {
  Status s = InvalidArgument("bad");
  s.WithRetryAfter(milliseconds(5000));
  EXPECT_EQ(StatusToResponse(s).headers.count("Retry-After"), 0u);
}

TEST(HttpStatusTest, ReasonPhrases) {
  EXPECT_EQ(ReasonPhrase(499), "Client Closed Request");
  EXPECT_EQ(ReasonPhrase(429), "Too Many Requests");
  EXPECT_EQ(ReasonPhrase(299), "Unknown");
}

}  // namespace
}  // namespace seghub::api
