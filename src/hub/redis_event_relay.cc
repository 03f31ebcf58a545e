#include "hub/redis_event_relay.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "storage/redis_client.h"
#include "storage/redis_pubsub.h"

namespace seghub::hub {
namespace {

using std::chrono::milliseconds;

// The relay whose subscriber thread is publishing a received event on this thread right now:
// its own bus listener must not send that event back to Redis.
thread_local const RedisEventRelay* tls_delivering = nullptr;

class DeliveringGuard {
 public:
  explicit DeliveringGuard(const RedisEventRelay* relay) : saved_(tls_delivering) {
    tls_delivering = relay;
  }
  ~DeliveringGuard() { tls_delivering = saved_; }
  DeliveringGuard(const DeliveringGuard&) = delete;
  DeliveringGuard& operator=(const DeliveringGuard&) = delete;

 private:
  const RedisEventRelay* const saved_;
};

milliseconds NextBackoff(milliseconds backoff, const RedisEventRelayOptions& o) {
  return std::min(backoff * 2, o.reconnect_max);
}

}  // namespace

RedisEventRelay::RedisEventRelay(EventBus* bus, std::string redis_url, std::string origin,
                                 RedisEventRelayOptions options)
    : bus_(bus), url_(std::move(redis_url)), origin_(std::move(origin)), options_(options) {}

RedisEventRelay::~RedisEventRelay() { Stop(); }

Status RedisEventRelay::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return FailedPrecondition("event relay already started");
    started_ = true;
  }
  publisher_ = std::thread([this] { PublishLoop(); });
  subscriber_ = std::thread([this] { SubscribeLoop(); });
  listener_id_ = bus_->Subscribe([this](const HubEvent& event) { OnLocalEvent(event); });
  return Status::Ok();
}

void RedisEventRelay::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_ || stop_) return;
  }
  // First: no listener call may run once the threads (and later this object) are gone.
  bus_->Unsubscribe(listener_id_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    stats_.dropped += static_cast<int64_t>(queue_.size());
    queue_.clear();
  }
  cv_.notify_all();
  publisher_.join();
  subscriber_.join();
  client_.reset();
}

RedisEventRelayStats RedisEventRelay::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void RedisEventRelay::OnLocalEvent(const HubEvent& event) {
  if (tls_delivering == this) return;  // came from Redis: the other processes have it already
  // Serialised here so the queue holds no references into the caller's event.
  std::string payload = nlohmann::json{
      {"origin", origin_},
      {"name", event.name},
      {"user_id", event.user_id},
      {"project_id", event.project_id},
      {"data", event.data}}.dump();
  bool overflow = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    if (queue_.size() >= options_.max_queued) {
      queue_.pop_front();
      ++stats_.dropped;
      overflow = true;
    }
    queue_.push_back(std::move(payload));
  }
  cv_.notify_all();
  if (overflow) Warn("event relay queue full; dropping the oldest events");
}

void RedisEventRelay::PublishLoop() {
  milliseconds backoff = options_.reconnect_min;
  SteadyTime next_connect{};
  storage::RedisClientOptions client_options;
  client_options.connect_timeout = options_.connect_timeout;
  client_options.command_timeout = options_.connect_timeout;
  client_options.reconnect_min = options_.reconnect_min;
  client_options.reconnect_max = options_.reconnect_max;
  for (;;) {
    std::deque<std::string> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      batch.swap(queue_);
    }
    // The first connection is ours to retry; once made, RedisClient reconnects by itself.
    if (client_ == nullptr && std::chrono::steady_clock::now() >= next_connect) {
      auto client = storage::RedisClient::Connect(url_, client_options);
      if (client.ok()) {
        client_ = std::move(client).value();
        backoff = options_.reconnect_min;
      } else {
        next_connect = std::chrono::steady_clock::now() + backoff;
        backoff = NextBackoff(backoff, options_);
        Warn(client.status().ToString());
      }
    }
    int64_t sent = 0;
    for (const std::string& payload : batch) {
      if (client_ == nullptr) break;
      auto reply = client_->Command({"PUBLISH", options_.channel, payload});
      if (!reply.ok() || reply->is_error()) {
        Warn(reply.ok() ? "redis: PUBLISH: " + reply->str : reply.status().ToString());
        continue;
      }
      ++sent;
    }
    std::lock_guard<std::mutex> lock(mu_);
    stats_.published += sent;
    stats_.dropped += static_cast<int64_t>(batch.size()) - sent;
  }
}

void RedisEventRelay::SubscribeLoop() {
  milliseconds backoff = options_.reconnect_min;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    auto sub =
        storage::RedisSubscriber::Connect(url_, {options_.channel}, options_.connect_timeout);
    if (!sub.ok()) {
      Warn(sub.status().ToString());
      if (!SleepUnlessStopped(backoff)) return;
      backoff = NextBackoff(backoff, options_);
      continue;
    }
    backoff = options_.reconnect_min;
    subscribed_ = true;
    SEGHUB_LOG_INFO("event relay {}: subscribed to {} at {}", origin_, options_.channel, url_);
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) break;
      }
      auto message = (*sub)->Next(options_.poll_interval);
      if (!message.ok()) {
        Warn(message.status().ToString());
        break;
      }
      if (message->has_value()) Deliver((*message)->payload);
    }
    subscribed_ = false;
  }
}

void RedisEventRelay::Deliver(const std::string& payload) {
  nlohmann::json j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  auto text = [&](const char* k) { return j.is_object() && j.contains(k) && j[k].is_string(); };
  if (!text("origin") || !text("name") || !text("user_id") || !text("project_id") ||
      !j.contains("data")) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.rejected;
    return;
  }
  if (j["origin"].get<std::string>() == origin_) return;  // our own PUBLISH, echoed by Redis
  HubEvent event{j["name"].get<std::string>(), j["user_id"].get<std::string>(),
                 j["project_id"].get<std::string>(), std::move(j["data"])};
  {
    DeliveringGuard guard(this);
    bus_->Publish(event);
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.relayed;
}

bool RedisEventRelay::SleepUnlessStopped(milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [&] { return stop_; });
  return !stop_;
}

void RedisEventRelay::Warn(const std::string& what) {
  int64_t suppressed = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const SteadyTime now = std::chrono::steady_clock::now();
    if (last_warning_ != SteadyTime{} && now - last_warning_ < options_.warn_interval) {
      ++warnings_suppressed_;
      return;
    }
    last_warning_ = now;
    suppressed = std::exchange(warnings_suppressed_, 0);
  }
  SEGHUB_LOG_WARN(
      "event relay {}: {} (events are dropped meanwhile; {} similar warnings "
      "suppressed)",
      origin_, what, suppressed);
}

}  // namespace seghub::hub
