// RedisClient: a small synchronous Redis client over hiredis, for the distributed job queue
// (hub/redis_job_queue.h). One connection behind a mutex: commands are short, and the queue's
// multi-step operations run as Lua scripts (EVAL) inside Redis, so a pool buys little.
//
// Failure model: a transport failure (refused, timed out, connection reset) never throws; the
// command returns kUnavailable and the connection is dropped. The next command reconnects, but
// not before a backoff (doubling from reconnect_min to reconnect_max) has passed, so a worker
// loop polling a dead server does not hammer it. A command is never retried by the client: after
// a lost reply it may or may not have run, and only the caller knows whether repeating is safe.
#ifndef SEGHUB_STORAGE_REDIS_CLIENT_H_
#define SEGHUB_STORAGE_REDIS_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

struct redisContext;

namespace seghub::storage {

// A reply, as a value (copied out of hiredis's reply tree).
struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;               // kInteger
  std::string str;                   // kString, kStatus, kError
  std::vector<RedisReply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
  bool is_array() const { return type == Type::kArray; }
};

struct RedisClientOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{5000};
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
  const Clock* clock = nullptr;  // for the reconnect backoff; null: SystemClock. Borrowed.
};

class RedisClient {
 public:
  // url: "redis://[[user]:password@]host[:port][/db]" (port 6379, db 0 by default).
  // kInvalidArgument for a bad url, kUnavailable when the first connection fails. Any thread.
  static Result<std::unique_ptr<RedisClient>> Connect(const std::string& url,
                                                      RedisClientOptions options = {});
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs one command (binary-safe arguments). kUnavailable on a transport failure (see above);
  // an error reply from the server ("NOGROUP ...") is returned as a value of Type::kError.
  // Thread-safe; calls are serialised on the one connection.
  Result<RedisReply> Command(const std::vector<std::string>& argv);
  // Like Command, but an error reply becomes kInternal ("redis: <message>").
  Result<RedisReply> CommandOk(const std::vector<std::string>& argv);

  // PING; OK when the server answered PONG. Thread-safe.
  Status Ping();

 private:
  struct Endpoint {
    std::string host, user, password;
    int port = 6379;
    int db = 0;
  };
  RedisClient(Endpoint endpoint, RedisClientOptions options);
  Status ConnectLocked();   // requires mu_
  void DisconnectLocked();  // requires mu_: drops the connection and schedules the backoff

  const Endpoint endpoint_;
  const RedisClientOptions options_;
  const Clock* clock_;
  std::mutex mu_;
  redisContext* ctx_ = nullptr;           // guarded by mu_; null while disconnected
  SteadyTime next_attempt_{};             // guarded by mu_: no reconnect before this
  std::chrono::milliseconds backoff_{0};  // guarded by mu_: the next backoff step
};

}  // namespace seghub::storage

#endif  // SEGHUB_STORAGE_REDIS_CLIENT_H_
