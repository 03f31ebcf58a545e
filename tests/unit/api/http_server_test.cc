// The HTTP server over real loopback sockets, with an in-process router (no engine).
#include "api/http_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "http_client.h"

namespace seghub::api {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Fetch;
using testing::HttpConnection;

constexpr char kHost[] = "127.0.0.1";

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(router_
                    .AddSync("GET", "/echo/{word}",
                             [](const HttpRequest& req) {
                               return HttpResponse::Json(200,
                                                         {{"word", req.Param("word")},
                                                          {"q", req.Query("q").value_or("")},
                                                          {"agent", req.Header("user-agent")}});
                             })
                    .ok());
    ASSERT_TRUE(router_
                    .Add("POST", "/later",
                         [this](HttpRequest&& req, Responder r) {
                           std::lock_guard<std::mutex> lock(mu_);
                           workers_.emplace_back([body = std::move(req.body), r] {
                             std::this_thread::sleep_for(milliseconds(50));
                             r.Send(HttpResponse::Text(200, "later:" + body));
                           });
                         })
                    .ok());
    ASSERT_TRUE(router_
                    .Add("GET", "/hold",
                         [this](HttpRequest&&, Responder r) {
                           std::lock_guard<std::mutex> lock(mu_);
                           held_ = r;
                         })
                    .ok());
    options_.port = 0;
    options_.max_body_bytes = 1024;
    options_.max_header_bytes = 2048;
    options_.header_timeout = milliseconds(300);
    options_.shutdown_grace = milliseconds(300);
  }

  void TearDown() override {
    server_.reset();
    for (auto& t : workers_) t.join();
  }

  void StartServer() {
    auto s = HttpServer::Start(options_, &router_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    ASSERT_NE(server_->port(), 0);
  }

  std::unique_ptr<HttpConnection> Connect() {
    auto c = HttpConnection::Connect(kHost, server_->port(), seconds(5));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  Router router_;
  HttpServerOptions options_;
  std::unique_ptr<HttpServer> server_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::optional<Responder> held_;
};

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  auto conn = Connect();
  ASSERT_TRUE(conn);
  for (const char* word : {"one", "two%20words"}) {
    auto r = conn->Request("GET", std::string("/echo/") + word + "?q=a+b", {},
                           {{"User-Agent", "gtest"}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->Header("Content-Type"), "application/json");
    EXPECT_EQ(r->Json()["q"], "a b");
    EXPECT_EQ(r->Json()["agent"], "gtest");
  }
  auto r = conn->Request("GET", "/echo/two%20words");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Json()["word"], "two words");
}

TEST_F(HttpServerTest, HandlersMayAnswerFromAnotherThread) {
  StartServer();
  auto r = Fetch(kHost, server_->port(), "POST", "/later", "abc");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "later:abc");
}

TEST_F(HttpServerTest, BodyOverLimitIs413AndServerLivesOn) {
  StartServer();
  auto r = Fetch(kHost, server_->port(), "POST", "/later", std::string(1025, 'x'));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->Json()["code"], "PAYLOAD_TOO_LARGE");
  auto ok = Fetch(kHost, server_->port(), "POST", "/later", std::string(1024, 'x'));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpServerTest, MalformedRequestsGet400) {
  StartServer();
  for (const std::string& bad : std::vector<std::string>{
           "GARBAGE\r\n\r\n", "GET /x HTTP/9.9\r\n\r\n", "GET /x HTTP/1.1\r\nNo colon here\r\n\r\n",
           "GET /x HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
           "GET http://abs/x HTTP/1.1\r\nHost: a\r\n\r\n",
           std::string("G\0T / HTTP/1.1\r\n\r\n", 18)}) {
    auto conn = Connect();
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Write(bad).ok());
    auto r = conn->ReadReply();
    ASSERT_TRUE(r.ok()) << r.status().ToString() << " for " << bad;
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_FALSE(r->Json().is_discarded());
  }
  auto alive = Fetch(kHost, server_->port(), "GET", "/echo/x");
  ASSERT_TRUE(alive.ok());
  EXPECT_EQ(alive->status, 200);
}

TEST_F(HttpServerTest, SurvivesRandomBytes) {
  StartServer();
  std::mt19937 rng(1234);  // fixed seed: a failure reproduces
  const std::string prefixes[] = {"", "GET / HTTP/1.1\r\n",
                                  "POST /later HTTP/1.1\r\nContent-Length: "};
  for (int i = 0; i < 200; ++i) {
    std::string junk = prefixes[i % 3];
    int n = std::uniform_int_distribution<int>(1, 600)(rng);
    for (int k = 0; k < n; ++k) junk.push_back(static_cast<char>(rng()));
    junk += "\r\n\r\n";
    auto conn = Connect();
    ASSERT_TRUE(conn);
    (void)conn->Write(junk);
    auto r = conn->ReadReply();  // a reply (any code) or a closed connection; never a hang
    if (r.ok()) {
      EXPECT_GE(r->status, 400) << i;
    }
  }
  auto alive = Fetch(kHost, server_->port(), "GET", "/echo/x");
  ASSERT_TRUE(alive.ok()) << alive.status().ToString();
  EXPECT_EQ(alive->status, 200);
}

TEST_F(HttpServerTest, OversizedHeadIs431) {
  StartServer();
  auto r = Fetch(kHost, server_->port(), "GET", "/echo/x", "", {{"X-Big", std::string(4096, 'a')}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 431);
}

TEST_F(HttpServerTest, SlowClientIsDisconnected) {
  StartServer();
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Write("GET /echo/x HTTP/1.1\r\n").ok());
  EXPECT_TRUE(conn->WaitClosed(seconds(3)));
}

TEST_F(HttpServerTest, HeadSendsNoBody) {
  StartServer();
  auto conn = Connect();
  ASSERT_TRUE(conn);
  auto head = conn->Request("HEAD", "/echo/x");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->status, 200);
  EXPECT_NE(head->Header("Content-Length"), "0");
  // Had the body been sent, this reply would be parsed out of it.
  auto get = conn->Request("GET", "/echo/y");
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->Json()["word"], "y");
}

TEST_F(HttpServerTest, ExpectContinueGetsInterimResponse) {
  StartServer();
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Write("POST /later HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                          "Expect: 100-continue\r\n\r\n")
                  .ok());
  auto interim = conn->ReadReply();
  ASSERT_TRUE(interim.ok()) << interim.status().ToString();
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(conn->Write("xyz").ok());
  auto r = conn->ReadReply();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "later:xyz");
}

TEST_F(HttpServerTest, PortInUseIsUnavailable) {
  StartServer();
  HttpServerOptions again = options_;
  again.port = server_->port();
  auto second = HttpServer::Start(again, &router_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
}

TEST_F(HttpServerTest, StopClosesIdleConnectionsAndFinishesInFlightOnes) {
  options_.shutdown_grace = seconds(5);
  StartServer();
  auto idle = Connect();
  ASSERT_TRUE(idle);
  ASSERT_TRUE(idle->Request("GET", "/echo/x").ok());
  auto busy = Connect();
  ASSERT_TRUE(busy);
  ASSERT_TRUE(busy->Write("POST /later HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nz").ok());
  std::this_thread::sleep_for(milliseconds(10));  // let the request reach the handler
  std::thread stopper([this] { server_->Stop(); });
  auto r = busy->ReadReply();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "later:z");
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_TRUE(idle->WaitClosed(seconds(3)));
  stopper.join();
  EXPECT_FALSE(HttpConnection::Connect(kHost, server_->port()).ok());
}

TEST_F(HttpServerTest, StuckHandlerDoesNotBlockStopAndLateReplyIsHarmless) {
  StartServer();
  auto conn = Connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Write("GET /hold HTTP/1.1\r\nHost: a\r\n\r\n").ok());
  for (int i = 0; i < 200; ++i) {
    std::lock_guard<std::mutex> lock(mu_);
    if (held_) break;
    std::this_thread::sleep_for(milliseconds(5));
  }
  auto start = std::chrono::steady_clock::now();
  server_.reset();  // Stop() after a 300 ms grace
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(3));
  EXPECT_TRUE(conn->WaitClosed(seconds(3)));
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_TRUE(held_.has_value());
  held_->Send(HttpResponse::Text(200, "too late"));  // the server is gone: dropped, no crash
  held_.reset();
}

}  // namespace
}  // namespace seghub::api
