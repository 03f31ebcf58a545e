#include "api/rate_limit.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "common/clock.h"

namespace seghub::api {
namespace {

using std::chrono::milliseconds;

class RateLimitTest : public ::testing::Test {
 protected:
  ManualClock clock_;
  RateLimiter limiter_{{{"api", 2, 4}, {"upload", 1, 1}}, &clock_};
};

TEST_F(RateLimitTest, BurstThenRefusedWithRetryAfter) {
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limiter_.Check("api", "k").allowed) << i;
  RateLimiter::Decision d = limiter_.Check("api", "k");
  EXPECT_FALSE(d.allowed);
  EXPECT_NEAR(d.retry_after_s, 0.5, 1e-9);  // one token at 2/s
}

TEST_F(RateLimitTest, RefillsWithTime) {
  for (int i = 0; i < 4; ++i) limiter_.Check("api", "k");
  EXPECT_FALSE(limiter_.Check("api", "k").allowed);
  clock_.Advance(milliseconds(499));
  EXPECT_FALSE(limiter_.Check("api", "k").allowed);
  clock_.Advance(milliseconds(2));
  EXPECT_TRUE(limiter_.Check("api", "k").allowed);
  EXPECT_FALSE(limiter_.Check("api", "k").allowed);
  clock_.Advance(std::chrono::hours(1));  // refills only up to the burst
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limiter_.Check("api", "k").allowed) << i;
  EXPECT_FALSE(limiter_.Check("api", "k").allowed);
}

TEST_F(RateLimitTest, KeysAndClassesAreIndependent) {
  EXPECT_TRUE(limiter_.Check("upload", "a").allowed);
  EXPECT_FALSE(limiter_.Check("upload", "a").allowed);
  EXPECT_TRUE(limiter_.Check("upload", "b").allowed);
  EXPECT_TRUE(limiter_.Check("api", "a").allowed);
  EXPECT_TRUE(limiter_.Check("unknown-class", "a").allowed);  // not limited
}

TEST_F(RateLimitTest, KeyCountStaysBounded) {
  RateLimiter small({{"api", 1, 1}}, &clock_, 64);
  for (int i = 0; i < 10000; ++i) small.Check("api", "client-" + std::to_string(i));
  EXPECT_LE(small.key_count(), 64u + 16u);  // per-shard rounding
  EXPECT_GT(small.key_count(), 0u);
  // A recent client keeps its bucket.
  EXPECT_FALSE(small.Check("api", "client-9999").allowed);
}

TEST(HubDefaultRateLimitsTest, MatchesTheHub) {
  auto limits = HubDefaultRateLimits();
  ASSERT_EQ(limits.size(), 4u);
  EXPECT_EQ(limits[0].name, "general");
  EXPECT_EQ(limits[0].rate_per_s, 10);
  EXPECT_EQ(limits[0].burst, 20);
  EXPECT_EQ(limits[1].name, "api");
  EXPECT_EQ(limits[1].burst, 80);
  EXPECT_EQ(limits[2].name, "segmentation");
  EXPECT_EQ(limits[2].rate_per_s, 100);
  EXPECT_EQ(limits[3].name, "upload");
  EXPECT_EQ(limits[3].rate_per_s, 5);
}

TEST(ClientIpTest, StripsThePort) {
  EXPECT_EQ(ClientIp("127.0.0.1:53122"), "127.0.0.1");
  EXPECT_EQ(ClientIp("::1:53122"), "::1");
  EXPECT_EQ(ClientIp("2001:db8::7:443"), "2001:db8::7");
  EXPECT_EQ(ClientIp("[2001:db8::7]:443"), "2001:db8::7");
  EXPECT_EQ(ClientIp("localhost"), "localhost");
  EXPECT_EQ(ClientIp(""), "");
}

HttpResponse Call(const Handler& h, const std::string& remote) {
  HttpRequest req;
  req.method = "GET";
  req.path = "/x";
  req.remote_address = remote;
  std::promise<HttpResponse> p;
  auto f = p.get_future();
  h(std::move(req), Responder([&p](HttpResponse&& r) { p.set_value(std::move(r)); }));
  return f.get();
}

TEST_F(RateLimitTest, HandlerAnswers429WithRetryAfter) {
  RateLimiter limiter({{"upload", 0.25, 2}}, &clock_);
  Handler h = RateLimited([](HttpRequest&&, Responder r) { r.Send(HttpResponse::Text(200, "ok")); },
                          &limiter, "upload");
  EXPECT_EQ(Call(h, "10.0.0.1:1000").status, 200);
  EXPECT_EQ(Call(h, "10.0.0.1:1001").status, 200);  // another port, same client
  HttpResponse refused = Call(h, "10.0.0.1:1002");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.headers["Retry-After"], "4");
  auto body = nlohmann::json::parse(refused.body);
  EXPECT_EQ(body["code"], "rate_limited");
  EXPECT_NE(body["error"].get<std::string>().find("upload"), std::string::npos);
  EXPECT_EQ(body["detail"], body["error"]);
  EXPECT_EQ(Call(h, "10.0.0.2:1000").status, 200);  // another client
}

TEST_F(RateLimitTest, RetryAfterIsAtLeastOneSecondAndKeyFnIsUsed) {
  RateLimiter limiter({{"api", 100, 1}}, &clock_);
  SyncHandler h =
      RateLimitedSync([](const HttpRequest&) { return HttpResponse::Text(200, "ok"); }, &limiter,
                      "api", [](const HttpRequest& r) { return r.Header("X-Client-Id"); });
  HttpRequest a;
  a.headers["X-Client-Id"] = "alice";
  HttpRequest b;
  b.headers["X-Client-Id"] = "bob";
  EXPECT_EQ(h(a).status, 200);
  HttpResponse refused = h(a);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.headers["Retry-After"], "1");
  EXPECT_EQ(h(b).status, 200);
}

}  // namespace
}  // namespace seghub::api
