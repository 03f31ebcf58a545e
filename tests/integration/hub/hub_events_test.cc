// Live events over the WebSocket (/api/ws) and rate limits, through the real binary on SQLite.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <thread>

#include "hub_test_env.h"

namespace seghub::testing {
namespace {

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using nlohmann::json;
using tcp = boost::asio::ip::tcp;

// A blocking WebSocket client with a read timeout.
class EventClient {
 public:
  EventClient(uint16_t port, const std::string& token) : ws_(ioc_) {
    tcp::resolver resolver(ioc_);
    beast::get_lowest_layer(ws_).connect(resolver.resolve("127.0.0.1", std::to_string(port)));
    ws_.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
      req.set(beast::http::field::authorization, "Bearer " + token);
    }));
    ws_.handshake("127.0.0.1", "/api/ws");
  }
  // The next message, or a discarded json after `timeout`.
  json Next(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    beast::get_lowest_layer(ws_).expires_after(timeout);
    beast::flat_buffer buffer;
    beast::error_code ec;
    ws_.read(buffer, ec);
    if (ec) return json(json::value_t::discarded);
    return json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
  }
  // Reads until a message with `event` arrives (returns it) or the timeout.
  json WaitFor(const std::string& event, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      json m = Next();
      if (m.is_discarded()) break;
      if (m.value("event", "") == event) return m;
    }
    return json(json::value_t::discarded);
  }
  void Send(const json& message) {
    beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(5));
    ws_.write(boost::asio::buffer(message.dump()));
  }

 private:
  boost::asio::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
};

class HubEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("seghub_hub_events_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    WriteTestModel(dir_ / "models", "bright");
    WriteTestModel(dir_ / "models", "slow", 50000);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  void Start(std::vector<std::string> extra) {
    server_ = std::make_unique<HubServer>(dir_, "", std::move(extra));
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << server_->Output();
  }
  std::vector<FilePart> Images(int n, int seed) {
    std::vector<FilePart> files;
    for (int i = 0; i < n; ++i) {
      files.push_back({"e" + std::to_string(seed + i) + ".png", DiscsPng(96, 96, 2, seed + i)});
    }
    return files;
  }

  fs::path dir_;
  std::unique_ptr<HubServer> server_;
};

TEST_F(HubEventsTest, ProgressReachesTheBrowserAndSurvivesReconnects) {
  Start({"--no-rate-limit"});
  HubClient alice(server_->port());
  ASSERT_TRUE(alice.SignUp("alice@lab.org").ok());
  EXPECT_THROW(EventClient(server_->port(), "v1.forged.token"), beast::system_error);

  std::string project = alice.CreateProject("live");
  ASSERT_EQ(alice.Upload(project, Images(3, 1)).status, 201);
  EventClient events(server_->port(), alice.token());
  json hello = events.Next();
  ASSERT_EQ(hello.value("event", ""), "hello") << hello.dump();
  EXPECT_EQ(hello["data"]["user"]["email"], "alice@lab.org");
  events.Send({{"subscribe", project}});
  ASSERT_FALSE(events.WaitFor("subscribed").is_discarded());

  ASSERT_EQ(
      alice.Call("POST", "/api/projects/" + project + "/segment", {{"model", "bright"}}).status,
      202);
  int done = 0, notifications = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((done < 3 || notifications < 3) && std::chrono::steady_clock::now() < end) {
    json m = events.Next();
    ASSERT_FALSE(m.is_discarded())
        << "no event; done " << done << ", notifications " << notifications;
    if (m["event"] == "segmentation-update" && m["data"]["status"] == "done") {
      EXPECT_EQ(m["data"]["projectId"], project);
      ++done;
    }
    if (m["event"] == "notification") {
      EXPECT_EQ(m["data"]["type"], "segmentation-complete");
      EXPECT_EQ(m["data"]["polygonCount"], 2);
      ++notifications;
    }
  }
  EXPECT_EQ(done, 3);
  EXPECT_EQ(notifications, 3);

  // A client that connects while work is queued is told the current queue at once.
  ASSERT_EQ(alice.Upload(project, Images(30, 100)).status, 201);
  ASSERT_EQ(alice.Call("POST", "/api/projects/" + project + "/segment", {{"model", "slow"}}).status,
            202);
  EventClient late(server_->port(), alice.token());
  ASSERT_EQ(late.Next().value("event", ""), "hello");
  json stats = late.WaitFor("queueStats", std::chrono::seconds(5));
  ASSERT_FALSE(stats.is_discarded());
  EXPECT_EQ(stats["data"]["projectId"], project);
  EXPECT_GT(stats["data"]["total"].get<int>(), 0);
  EXPECT_EQ(alice.Call("POST", "/api/projects/" + project + "/cancel").status, 200);
}

TEST_F(HubEventsTest, RateLimitsAnswer429WithRetryAfter) {
  Start({});
  HubClient alice(server_->port());
  ASSERT_TRUE(alice.SignUp("alice@lab.org").ok());
  std::string project = alice.CreateProject("limits");
  // Upload class: 5 r/s, burst 10.
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 20; ++i) {
    HttpReply r = alice.Upload(project, Images(1, 500 + i));
    if (r.status == 429) {
      ++limited;
      retry_after = r.Header("Retry-After");
    } else {
      EXPECT_EQ(r.status, 201) << r.body;
    }
  }
  EXPECT_GT(limited, 0);
  EXPECT_GE(std::atoi(retry_after.c_str()), 1);
  EXPECT_EQ(alice.Call("GET", "/health").status, 200);
}

}  // namespace
}  // namespace seghub::testing
