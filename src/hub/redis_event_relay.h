// RedisEventRelay: joins the EventBus of several processes (API servers, workers) over Redis
// pub/sub, so a WebSocket client on API server A sees the job events of a worker on machine B.
//
// Every event published on the local bus is sent, as JSON {origin, name, user_id, project_id,
// data}, to the Redis channel; every message from another origin is published on the local bus.
// Messages carrying this relay's own origin (Redis echoes our PUBLISHes back to our
// subscription) are ignored, so an event reaches each process exactly once.
//
// No re-relaying: the subscriber thread marks itself (a thread-local pointer to this relay)
// while it publishes a received event on the local bus, and this relay's bus listener ignores
// events published under that mark. Consequence: an event that some other listener publishes
// synchronously while handling a relayed event stays local (no listener does that today: the
// WebSocket layer only queues).
//
// Delivery is best effort: events are advisory (clients re-read state after reconnecting), so
// while Redis is unreachable events are dropped with a rate-limited warning, and the subscriber
// reconnects with backoff and resubscribes. Bus listeners never wait for Redis: the listener
// only queues (bounded; the oldest event is dropped when full) and a publisher thread sends.
//
// Threads: a publisher thread (RedisClient, PUBLISH) and a subscriber thread (its own
// RedisSubscriber connection; relayed events' listeners run on it). Ownership: the bus is
// borrowed and must outlive the relay.
#ifndef SEGHUB_HUB_REDIS_EVENT_RELAY_H_
#define SEGHUB_HUB_REDIS_EVENT_RELAY_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/status.h"
#include "hub/event_bus.h"

namespace seghub::storage {
class RedisClient;
}

namespace seghub::hub {

inline constexpr char kEventChannel[] = "seghub:events";

struct RedisEventRelayOptions {
  std::string channel = kEventChannel;
  size_t max_queued = 10'000;                        // events awaiting the publisher thread
  std::chrono::milliseconds connect_timeout{1'000};  // also bounds each PUBLISH
  std::chrono::milliseconds reconnect_min{100};      // subscriber and publisher backoff
  std::chrono::milliseconds reconnect_max{2'000};
  std::chrono::milliseconds warn_interval{10'000};  // at most one "Redis down" warning per this
  std::chrono::milliseconds poll_interval{100};     // how often threads check for Stop()
};

struct RedisEventRelayStats {
  int64_t published = 0;  // local events sent to Redis
  int64_t dropped = 0;    // local events lost (Redis down or queue full)
  int64_t relayed = 0;    // events from other origins published on the local bus
  int64_t rejected = 0;   // malformed messages ignored
};

class RedisEventRelay {
 public:
  // `origin`: unique per process (e.g. hub::NewId()); `redis_url` as RedisClient::Connect.
  RedisEventRelay(EventBus* bus, std::string redis_url, std::string origin,
                  RedisEventRelayOptions options = {});
  ~RedisEventRelay();  // Stop()
  RedisEventRelay(const RedisEventRelay&) = delete;
  RedisEventRelay& operator=(const RedisEventRelay&) = delete;

  // Subscribes to the bus and starts both threads. Succeeds while Redis is down (the threads
  // keep trying). kFailedPrecondition when already started. Owning thread.
  Status Start();
  // Unsubscribes from the bus, then stops and joins the threads (within about poll_interval plus
  // one connect_timeout); events still queued are dropped. Idempotent. Owning thread; never from
  // a bus listener.
  void Stop();

  // True while the subscriber holds a live subscription (for tests and health checks). Any
  // thread.
  bool subscribed() const { return subscribed_.load(); }
  RedisEventRelayStats stats() const;  // any thread
  const std::string& origin() const { return origin_; }

 private:
  void OnLocalEvent(const HubEvent& event);              // bus listener; any publishing thread
  void PublishLoop();                                    // publisher thread
  void SubscribeLoop();                                  // subscriber thread
  void Deliver(const std::string& payload);              // subscriber thread
  bool SleepUnlessStopped(std::chrono::milliseconds d);  // false once stopping
  void Warn(const std::string& what);                    // rate-limited; any thread

  EventBus* const bus_;
  const std::string url_;
  const std::string origin_;
  const RedisEventRelayOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // queue_ grew or stop_ set
  std::deque<std::string> queue_;    // guarded by mu_; serialised events to PUBLISH
  bool stop_ = false;                // guarded by mu_
  bool started_ = false;             // guarded by mu_
  RedisEventRelayStats stats_;       // guarded by mu_
  SteadyTime last_warning_{};        // guarded by mu_
  int64_t warnings_suppressed_ = 0;  // guarded by mu_

  int listener_id_ = 0;  // owning thread only
  std::atomic<bool> subscribed_{false};
  std::unique_ptr<storage::RedisClient> client_;  // publisher thread only
  std::thread publisher_;
  std::thread subscriber_;
};

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_REDIS_EVENT_RELAY_H_
