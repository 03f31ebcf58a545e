// WebSockets over real loopback sockets, with a Beast client (the server side is Beast too, but
// the protocol is framed by the RFC, and the refusal path is checked as plain HTTP).
#include "api/websocket.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "api/http_server.h"
#include "api/router.h"
#include "http_client.h"

namespace seghub::api {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Client = websocket::stream<tcp::socket>;

constexpr char kHost[] = "127.0.0.1";

// Polls `pred` for up to `timeout`.
template <typename P>
bool WaitFor(P pred, milliseconds timeout = milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

class WebSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Echo with the room name; remembers every connection so tests can push from outside.
    ASSERT_TRUE(
        router_
            .AddWebSocket("/ws/{room}",
                          [this](const HttpRequest& req, std::shared_ptr<WebSocketConnection> conn)
                              -> Result<WebSocketCallbacks> {
                            if (req.Query("token").value_or("") == "bad") {
                              return Status(StatusCode::kUnauthenticated, "bad token");
                            }
                            {
                              std::lock_guard<std::mutex> lock(mu_);
                              connections_.push_back(conn);
                            }
                            std::string room = req.Param("room");
                            std::weak_ptr<WebSocketConnection> weak = conn;
                            WebSocketCallbacks cb;
                            cb.on_message = [weak, room](std::string text) {
                              if (auto c = weak.lock()) c->Send(room + ":" + text);
                            };
                            cb.on_close = [this] { ++closes_; };
                            return cb;
                          })
            .ok());
    options_.port = 0;
    options_.shutdown_grace = milliseconds(300);
  }

  // Before the members the callbacks touch (closes_) go away.
  void TearDown() override { server_.reset(); }

  void StartServer() {
    auto s = HttpServer::Start(options_, &router_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
  }

  std::unique_ptr<Client> Open(const std::string& target) {
    auto ws = std::make_unique<Client>(ioc_);
    ws->next_layer().connect(tcp::endpoint(net::ip::make_address(kHost), server_->port()));
    ws->handshake(kHost, target);
    return ws;
  }

  std::shared_ptr<WebSocketConnection> Connection(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return i < connections_.size() ? connections_[i] : nullptr;
  }

  static std::string ReadText(Client& ws) {
    beast::flat_buffer buffer;
    ws.read(buffer);
    return beast::buffers_to_string(buffer.data());
  }

  net::io_context ioc_;
  Router router_;
  HttpServerOptions options_;
  std::unique_ptr<HttpServer> server_;
  std::mutex mu_;
  std::vector<std::shared_ptr<WebSocketConnection>> connections_;  // guarded by mu_
  std::atomic<int> closes_{0};
};

TEST_F(WebSocketTest, AcceptsAndEchoes) {
  StartServer();
  auto ws = Open("/ws/lobby");
  ws->write(net::buffer(std::string("hello")));
  EXPECT_EQ(ReadText(*ws), "lobby:hello");
}

TEST_F(WebSocketTest, RefusalIsAnHttpErrorBeforeTheUpgrade) {
  StartServer();
  // A hand-written upgrade (Beast 1.74's client does not return the declined response).
  auto conn = testing::HttpConnection::Connect(kHost, server_->port(), seconds(5));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  ASSERT_TRUE((*conn)
                  ->Write("GET /ws/lobby?token=bad HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"
                          "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
                  .ok());
  auto r = (*conn)->ReadReply();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->Json()["code"], "UNAUTHENTICATED");
  EXPECT_EQ(r->Json()["error"], "bad token");
  EXPECT_EQ(closes_, 0);
  // The Beast client sees the refusal as a declined upgrade.
  Client ws(ioc_);
  ws.next_layer().connect(tcp::endpoint(net::ip::make_address(kHost), server_->port()));
  beast::error_code ec;
  ws.handshake(kHost, "/ws/lobby?token=bad", ec);
  EXPECT_EQ(ec, websocket::error::upgrade_declined) << ec.message();
}

TEST_F(WebSocketTest, PlainGetOnAWebSocketRouteIs426) {
  StartServer();
  auto r = testing::Fetch(kHost, server_->port(), "GET", "/ws/lobby");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 426);
  EXPECT_EQ(r->Json()["code"], "UPGRADE_REQUIRED");
}

TEST_F(WebSocketTest, ServerSendsFromAnotherThreadArriveInOrder) {
  StartServer();
  auto ws = Open("/ws/a");
  ASSERT_TRUE(WaitFor([&] { return Connection(0) != nullptr; }));
  constexpr int kCount = 2000;
  std::thread sender([conn = Connection(0)] {
    for (int i = 0; i < kCount; ++i) conn->Send(std::to_string(i));
  });
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(ReadText(*ws), std::to_string(i));
  sender.join();
}

TEST_F(WebSocketTest, ManyMessagesBothWays) {
  StartServer();
  auto ws = Open("/ws/m");
  constexpr int kCount = 500;
  std::thread writer([&] {
    for (int i = 0; i < kCount; ++i)
      ws->write(net::buffer(std::string(100, 'x') + "#" + std::to_string(i)));
  });
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(ReadText(*ws), "m:" + std::string(100, 'x') + "#" + std::to_string(i));
  }
  writer.join();
}

TEST_F(WebSocketTest, ClientCloseCallsOnCloseOnce) {
  StartServer();
  auto ws = Open("/ws/c");
  ASSERT_TRUE(WaitFor([&] { return Connection(0) != nullptr; }));
  ws->close(websocket::close_code::normal);
  ASSERT_TRUE(WaitFor([&] { return closes_ == 1; }));
  EXPECT_TRUE(Connection(0)->closed());
  Connection(0)->Send("ignored");  // after close: dropped, no crash
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(closes_, 1);
}

TEST_F(WebSocketTest, StopClosesOpenSocketsPromptly) {
  StartServer();
  auto reading = Open("/ws/r");
  auto idle = Open("/ws/i");  // never reads: Stop must not wait for it beyond the grace
  ASSERT_TRUE(WaitFor([&] { return Connection(1) != nullptr; }));
  beast::error_code read_ec;
  std::thread reader([&] {
    beast::flat_buffer buffer;
    reading->read(buffer, read_ec);
  });
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(2));
  reader.join();
  EXPECT_EQ(read_ec, websocket::error::closed);
  EXPECT_EQ(reading->reason().code, websocket::close_code::going_away);
  EXPECT_EQ(closes_, 2);
}

TEST_F(WebSocketTest, SlowConsumerIsDisconnected) {
  options_.websocket_max_queued_bytes = 256 << 10;
  StartServer();
  auto ws = Open("/ws/slow");  // never reads
  ASSERT_TRUE(WaitFor([&] { return Connection(0) != nullptr; }));
  auto conn = Connection(0);
  const std::string chunk(64 << 10, 'y');
  for (int i = 0; i < 1000 && !conn->closed(); ++i) conn->Send(chunk);
  EXPECT_TRUE(conn->closed());
  EXPECT_TRUE(WaitFor([&] { return closes_ == 1; }));
}

TEST_F(WebSocketTest, OversizedMessageClosesTheConnection) {
  options_.websocket_max_message_bytes = 1024;
  StartServer();
  auto ws = Open("/ws/big");
  ws->write(net::buffer(std::string(4096, 'z')));
  beast::flat_buffer buffer;
  beast::error_code ec;
  ws->read(buffer, ec);
  EXPECT_TRUE(ec);
  EXPECT_TRUE(WaitFor([&] { return closes_ == 1; }));
}

TEST_F(WebSocketTest, ServerCloseSendsQueuedFramesFirst) {
  StartServer();
  auto ws = Open("/ws/q");
  ASSERT_TRUE(WaitFor([&] { return Connection(0) != nullptr; }));
  Connection(0)->Send("last words");
  Connection(0)->Close();
  EXPECT_EQ(ReadText(*ws), "last words");
  beast::flat_buffer buffer;
  beast::error_code ec;
  ws->read(buffer, ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(ws->reason().code, websocket::close_code::normal);
  EXPECT_TRUE(WaitFor([&] { return closes_ == 1; }));
}

}  // namespace
}  // namespace seghub::api
