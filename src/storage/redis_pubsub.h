// RedisSubscriber: one dedicated hiredis connection in SUBSCRIBE mode. A connection that has
// subscribed can only (un)subscribe and receive, so it cannot share RedisClient's connection;
// publishing goes through RedisClient::Command({"PUBLISH", channel, payload}).
//
// Waiting: Next() polls the socket itself with a timeout, so the owning thread can check a stop
// flag between waits (hiredis's own read timeout would leave the context unusable).
//
// Failure model: when the connection breaks (server restart, reset), Next() returns kUnavailable
// and the object is dead: drop it and Connect() again. Messages published while no connection
// was subscribed are lost (Redis pub/sub has no history).
//
// Threading: not thread-safe; one thread owns the object and calls every method.
#ifndef SEGHUB_STORAGE_REDIS_PUBSUB_H_
#define SEGHUB_STORAGE_REDIS_PUBSUB_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

struct redisContext;

namespace seghub::storage {

struct RedisMessage {
  std::string channel;
  std::string payload;
};

class RedisSubscriber {
 public:
  // Connects to `url` ("redis://[[user]:password@]host[:port][/db]"; the db does not matter to
  // pub/sub) and subscribes to `channels` (at least one). `timeout` bounds the connect and the
  // SUBSCRIBE round trip. kInvalidArgument for a bad url or no channel, kUnavailable when the
  // server cannot be reached, kFailedPrecondition when it refuses (auth). Any thread.
  static Result<std::unique_ptr<RedisSubscriber>> Connect(const std::string& url,
                                                          const std::vector<std::string>& channels,
                                                          std::chrono::milliseconds timeout);
  ~RedisSubscriber();
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  // The next published message, waiting at most `timeout`; nullopt when none arrived in time.
  // Subscription confirmations are skipped. kUnavailable when the connection broke. Owner thread.
  Result<std::optional<RedisMessage>> Next(std::chrono::milliseconds timeout);

 private:
  explicit RedisSubscriber(redisContext* ctx) : ctx_(ctx) {}
  Status Broken() const;

  redisContext* ctx_;  // owned
};

}  // namespace seghub::storage

#endif  // SEGHUB_STORAGE_REDIS_PUBSUB_H_
