// RedisClient against a real redis-server: replies as values, error replies, bad urls, and
// kUnavailable (no exception) while the server is down, then reconnection.
#include "storage/redis_client.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/redis_server.h"

namespace seghub::storage {
namespace {

using std::chrono::milliseconds;

TEST(RedisClientTest, RepliesAsValues) {
  auto server = testing::SharedRedis();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto client = RedisClient::Connect((*server)->url() + "/2");
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  RedisClient& c = **client;
  EXPECT_TRUE(c.Ping().ok());
  ASSERT_TRUE(c.CommandOk({"DEL", "k", "l"}).ok());
  auto set = c.CommandOk({"SET", "k", std::string("a\0b", 3)});
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->type, RedisReply::Type::kStatus);
  auto get = c.CommandOk({"GET", "k"});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->str, std::string("a\0b", 3));  // binary safe
  auto missing = c.CommandOk({"GET", "nope"});
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->is_nil());
  auto pushed = c.CommandOk({"RPUSH", "l", "x", "y"});
  ASSERT_TRUE(pushed.ok());
  EXPECT_EQ(pushed->integer, 2);
  auto list = c.CommandOk({"LRANGE", "l", "0", "-1"});
  ASSERT_TRUE(list.ok() && list->is_array());
  ASSERT_EQ(list->elements.size(), 2u);
  EXPECT_EQ(list->elements[1].str, "y");
  auto wrong = c.Command({"INCR", "l"});  // WRONGTYPE: an error reply, not a failure
  ASSERT_TRUE(wrong.ok());
  EXPECT_TRUE(wrong->is_error());
  EXPECT_EQ(c.CommandOk({"INCR", "l"}).status().code(), StatusCode::kInternal);
}

TEST(RedisClientTest, RejectsBadUrls) {
  EXPECT_EQ(RedisClient::Connect("http://x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RedisClient::Connect("redis://h:port").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RedisClient::Connect("redis://127.0.0.1:1").status().code(), StatusCode::kUnavailable);
}

TEST(RedisClientTest, UnavailableWhileDownThenReconnects) {
  auto server = testing::RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  RedisClientOptions options;
  options.reconnect_min = milliseconds(10);
  options.reconnect_max = milliseconds(50);
  auto client = RedisClient::Connect((*server)->url(), options);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->CommandOk({"SET", "k", "v"}).ok());
  ASSERT_TRUE((*server)->Kill().ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*client)->Ping().code(), StatusCode::kUnavailable);
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE((*server)->Relaunch().ok());
  Status ping;
  for (int i = 0; i < 100; ++i) {
    ping = (*client)->Ping();
    if (ping.ok()) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(ping.ok()) << ping.ToString();
  auto get = (*client)->CommandOk({"GET", "k"});  // appendfsync always: the write survived
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->str, "v");
}

}  // namespace
}  // namespace seghub::storage
