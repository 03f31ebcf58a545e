#include "api/router.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>

#include "common/clock.h"
#include "metrics/metrics.h"

namespace seghub::api {
namespace {

// Collects the one response a dispatch produces. Holds no Responder itself, so a handler that
// drops its Responder really drops the last copy.
struct Capture {
  std::shared_ptr<std::promise<HttpResponse>> promise =
      std::make_shared<std::promise<HttpResponse>>();
  std::future<HttpResponse> future = promise->get_future();

  Responder responder() {
    return Responder([p = promise](HttpResponse&& r) { p->set_value(std::move(r)); });
  }

  HttpResponse Get() {
    EXPECT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    return future.get();
  }
};

HttpRequest Request(std::string method, std::string path) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

HttpResponse Dispatch(const Router& router, std::string method, std::string path) {
  Capture c;
  router.Dispatch(Request(std::move(method), std::move(path)), c.responder());
  return c.Get();
}

std::string EchoRoute(const HttpRequest& req) {
  std::string out = req.route;
  for (const auto& [k, v] : req.path_params) out += " " + k + "=" + v;
  return out;
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* p : {"/health", "/v2/models/{model}/infer", "/v2/models/stats",
                          "/v2/models/{model}", "/a/{x}/{y}"}) {
      ASSERT_TRUE(router_
                      .AddSync("GET", p,
                               [](const HttpRequest& req) {
                                 return HttpResponse::Text(200, EchoRoute(req));
                               })
                      .ok());
    }
    ASSERT_TRUE(
        router_
            .AddSync("POST", "/v2/models/{model}/infer",
                     [](const HttpRequest& req) { return HttpResponse::Text(201, EchoRoute(req)); })
            .ok());
  }
  Router router_;
};

TEST_F(RouterTest, MatchesLiteralsAndParams) {
  EXPECT_EQ(Dispatch(router_, "GET", "/health").body, "/health");
  EXPECT_EQ(Dispatch(router_, "GET", "/v2/models/hrnet/infer").body,
            "/v2/models/{model}/infer model=hrnet");
  HttpResponse post = Dispatch(router_, "POST", "/v2/models/hrnet/infer");
  EXPECT_EQ(post.status, 201);
  EXPECT_EQ(Dispatch(router_, "GET", "/a/1/2").body, "/a/{x}/{y} x=1 y=2");
}

TEST_F(RouterTest, LiteralSegmentBeatsParam) {
  EXPECT_EQ(Dispatch(router_, "GET", "/v2/models/stats").body, "/v2/models/stats");
  EXPECT_EQ(Dispatch(router_, "GET", "/v2/models/unet").body, "/v2/models/{model} model=unet");
}

TEST_F(RouterTest, DecodesParamsPerSegment) {
  // %2F must not split the segment: it is part of the model name.
  EXPECT_EQ(Dispatch(router_, "GET", "/v2/models/a%2Fb%20c/infer").body,
            "/v2/models/{model}/infer model=a/b c");
  EXPECT_EQ(Dispatch(router_, "GET", "/he%61lth").body, "/health");
  HttpResponse bad = Dispatch(router_, "GET", "/v2/models/%zz/infer");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad.body)["code"], "INVALID_ARGUMENT");
}

TEST_F(RouterTest, UnknownPathIs404Json) {
  for (const char* p : {"/nope", "/health/", "/v2/models//infer", "/", "/v2/models/x/infer/y"}) {
    HttpResponse r = Dispatch(router_, "GET", p);
    EXPECT_EQ(r.status, 404) << p;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(nlohmann::json::parse(r.body)["code"], "NOT_FOUND");
  }
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  HttpResponse r = Dispatch(router_, "DELETE", "/v2/models/x/infer");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.at("Allow"), "GET, POST");
  EXPECT_EQ(nlohmann::json::parse(r.body)["code"], "METHOD_NOT_ALLOWED");
}

TEST_F(RouterTest, HeadFallsBackToGet) {
  EXPECT_EQ(Dispatch(router_, "HEAD", "/health").status, 200);
}

TEST_F(RouterTest, CatchAllTakesTheRestButLiteralsAndParamsWin) {
  for (const char* p : {"/{*rest}", "/v2/files/{*path}"}) {
    ASSERT_TRUE(
        router_
            .AddSync("GET", p,
                     [](const HttpRequest& req) { return HttpResponse::Text(200, EchoRoute(req)); })
            .ok());
  }
  EXPECT_EQ(Dispatch(router_, "GET", "/health").body, "/health");
  EXPECT_EQ(Dispatch(router_, "GET", "/v2/models/stats").body, "/v2/models/stats");
  EXPECT_EQ(Dispatch(router_, "GET", "/v2/models/unet").body, "/v2/models/{model} model=unet");
  EXPECT_EQ(Dispatch(router_, "GET", "/").body, "/{*rest} rest=");
  EXPECT_EQ(Dispatch(router_, "GET", "/ui/a%20b/c.js").body, "/{*rest} rest=ui/a b/c.js");
  EXPECT_EQ(Dispatch(router_, "GET", "/v2/files/x/y").body, "/v2/files/{*path} path=x/y");
  EXPECT_EQ(Dispatch(router_, "GET", "/v2/files").body, "/v2/files/{*path} path=");
  // HEAD follows GET; a 405 from an exact route is not hidden; other methods elsewhere are 404.
  EXPECT_EQ(Dispatch(router_, "HEAD", "/ui/x").status, 200);
  EXPECT_EQ(Dispatch(router_, "POST", "/v2/models/x/infer").body,
            "/v2/models/{model}/infer model=x");
  EXPECT_EQ(Dispatch(router_, "DELETE", "/v2/models/x/infer").status, 405);
  EXPECT_EQ(Dispatch(router_, "POST", "/nothing/here").status, 404);
}

TEST(RouterRegistrationTest, CatchAllOnlyAtTheEnd) {
  Router router;
  auto h = [](const HttpRequest&) { return HttpResponse::Text(200, ""); };
  EXPECT_FALSE(router.AddSync("GET", "/{*a}/b", h).ok());
  EXPECT_FALSE(router.AddSync("GET", "/a/{*}", h).ok());
  EXPECT_FALSE(router.AddSync("GET", "/a/*b", h).ok());
  EXPECT_TRUE(router.AddSync("GET", "/a/{*b}", h).ok());
}

TEST(RouterWebSocketTest, MatchesUpgradeRoutesAndAnswersPlainGetWith426) {
  Router router;
  ASSERT_TRUE(router
                  .AddWebSocket("/ws/{room}",
                                [](const HttpRequest&, std::shared_ptr<WebSocketConnection>)
                                    -> Result<WebSocketCallbacks> { return WebSocketCallbacks{}; })
                  .ok());
  ASSERT_TRUE(
      router
          .AddSync("GET", "/plain", [](const HttpRequest&) { return HttpResponse::Text(200, ""); })
          .ok());
  HttpRequest req = Request("GET", "/ws/lobby");
  const WebSocketAcceptor* acceptor = router.MatchWebSocket(&req);
  ASSERT_NE(acceptor, nullptr);
  EXPECT_EQ(req.Param("room"), "lobby");
  EXPECT_EQ(req.route, "/ws/{room}");
  HttpRequest plain = Request("GET", "/plain");
  EXPECT_EQ(router.MatchWebSocket(&plain), nullptr);
  HttpRequest missing = Request("GET", "/nope");
  EXPECT_EQ(router.MatchWebSocket(&missing), nullptr);
  HttpResponse r = Dispatch(router, "GET", "/ws/lobby");
  EXPECT_EQ(r.status, 426);
  EXPECT_EQ(r.headers["Upgrade"], "websocket");
  EXPECT_FALSE(router.AddWebSocket("/ws/{room}", {}).ok());
}

TEST(RouterRegistrationTest, RejectsBadAndDuplicatePatterns) {
  Router router;
  auto h = [](const HttpRequest&) { return HttpResponse::Text(200, ""); };
  EXPECT_TRUE(router.AddSync("GET", "/x/{id}", h).ok());
  EXPECT_EQ(router.AddSync("GET", "/x/{id}", h).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(router.AddSync("PUT", "/x/{id}", h).ok());
  EXPECT_FALSE(router.AddSync("GET", "relative", h).ok());
  EXPECT_FALSE(router.AddSync("GET", "/x/{}", h).ok());
  EXPECT_FALSE(router.AddSync("GET", "/x/{a}b", h).ok());
}

TEST(RouterAsyncTest, HandlerMayAnswerLaterFromAnotherThread) {
  Router router;
  std::thread worker;
  ASSERT_TRUE(router
                  .Add("POST", "/slow",
                       [&](HttpRequest&& req, Responder responder) {
                         worker = std::thread([body = std::move(req.body), responder] {
                           std::this_thread::sleep_for(std::chrono::milliseconds(20));
                           responder.Send(HttpResponse::Text(200, "done:" + body));
                         });
                       })
                  .ok());
  Capture c;
  HttpRequest req = Request("POST", "/slow");
  req.body = "payload";
  router.Dispatch(std::move(req), c.responder());
  EXPECT_EQ(c.Get().body, "done:payload");
  worker.join();
}

TEST(RouterAsyncTest, ThrowingOrSilentHandlersStillAnswer) {
  Router router;
  ASSERT_TRUE(
      router
          .Add("GET", "/throws", [](HttpRequest&&, Responder) { throw std::runtime_error("boom"); })
          .ok());
  ASSERT_TRUE(router.Add("GET", "/drops", [](HttpRequest&&, Responder) {}).ok());
  EXPECT_EQ(Dispatch(router, "GET", "/throws").status, 500);
  EXPECT_EQ(Dispatch(router, "GET", "/drops").status, 500);
}

TEST(ResponderTest, OnlyTheFirstSendCounts) {
  int calls = 0;
  int last_status = 0;
  Responder r([&](HttpResponse&& res) {
    ++calls;
    last_status = res.status;
  });
  Responder copy = r;
  r.Send(HttpResponse::Text(200, "a"));
  copy.SendStatus(Internal("late"));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(last_status, 200);
  EXPECT_TRUE(copy.sent());
}

TEST(RouterMetricsTest, RecordsCountsAndDurationsByPattern) {
  metrics::Registry registry;
  ManualClock clock;
  Router router(&registry, &clock);
  std::optional<Responder> pending;
  ASSERT_TRUE(
      router.Add("GET", "/m/{name}", [&](HttpRequest&&, Responder r) { pending = r; }).ok());
  for (const char* path : {"/m/a", "/m/b"}) {
    Capture c;
    router.Dispatch(Request("GET", path), c.responder());
    clock.Advance(std::chrono::milliseconds(250));
    pending->Send(HttpResponse::Text(200, "ok"));
    pending.reset();
    c.Get();
  }
  Dispatch(router, "GET", "/elsewhere");
  router.RecordRejected(413);

  std::string text = registry.Render();
  EXPECT_NE(
      text.find("seghub_http_requests_total{method=\"GET\",route=\"/m/{name}\",code=\"200\"} 2"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("route=\"<unmatched>\",code=\"404\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("route=\"<rejected>\",code=\"413\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("seghub_http_request_duration_seconds_sum{route=\"/m/{name}\"} 0.5"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("seghub_http_request_duration_seconds_count{route=\"/m/{name}\"} 2"),
            std::string::npos);
  // Raw paths never become label values.
  EXPECT_EQ(text.find("/m/a"), std::string::npos);
}

}  // namespace
}  // namespace seghub::api
