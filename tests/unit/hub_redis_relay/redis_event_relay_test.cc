// RedisEventRelay over a real redis-server: two buses (standing for two processes) joined by two
// relays. Events cross once, are not echoed, and relaying resumes after Redis restarts.
#include "hub/redis_event_relay.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "support/redis_server.h"

namespace seghub::hub {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

// Records every event published on a bus.
class Recorder {
 public:
  explicit Recorder(EventBus* bus) : bus_(bus) {
    id_ = bus_->Subscribe([this](const HubEvent& e) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(e);
      cv_.notify_all();
    });
  }
  ~Recorder() { bus_->Unsubscribe(id_); }

  // Waits until an event named `name` was seen; false after `timeout`.
  bool WaitFor(const std::string& name, milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return CountLocked(name) > 0; });
  }
  int Count(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    return CountLocked(name);
  }
  std::vector<HubEvent> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

 private:
  int CountLocked(const std::string& name) const {
    int n = 0;
    for (const HubEvent& e : events_) n += e.name == name ? 1 : 0;
    return n;
  }

  EventBus* const bus_;
  int id_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<HubEvent> events_;  // guarded by mu_
};

RedisEventRelayOptions FastOptions() {
  RedisEventRelayOptions o;
  o.reconnect_min = milliseconds(50);
  o.reconnect_max = milliseconds(500);
  o.poll_interval = milliseconds(50);
  o.warn_interval = milliseconds(1000);
  return o;
}

bool WaitSubscribed(const RedisEventRelay& relay, milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (!relay.subscribed()) {
    if (SteadyClock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

// Two "processes": a bus, a relay and a recorder each.
struct Pair {
  explicit Pair(const std::string& url)
      : relay1(&bus1, url, "origin-1", FastOptions()),
        relay2(&bus2, url, "origin-2", FastOptions()) {}
  EventBus bus1, bus2;
  Recorder seen1{&bus1}, seen2{&bus2};
  RedisEventRelay relay1, relay2;
};

TEST(RedisEventRelayTest, EventCrossesOnceAndIsNotEchoed) {
  auto redis = testing::SharedRedis();
  ASSERT_TRUE(redis.ok()) << redis.status().ToString();
  Pair p((*redis)->url());
  ASSERT_TRUE(p.relay1.Start().ok());
  ASSERT_TRUE(p.relay2.Start().ok());
  EXPECT_EQ(p.relay1.Start().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(WaitSubscribed(p.relay1, seconds(5)));
  ASSERT_TRUE(WaitSubscribed(p.relay2, seconds(5)));

  p.bus1.Publish({"segmentation-update", "u1", "p1", {{"imageId", "i1"}, {"status", "done"}}});
  ASSERT_TRUE(p.seen2.WaitFor("segmentation-update", seconds(5)));
  p.bus2.Publish({"notification", "u2", "", {{"type", "segmentation-complete"}}});
  ASSERT_TRUE(p.seen1.WaitFor("notification", seconds(5)));
  std::this_thread::sleep_for(milliseconds(300));  // time for any echo to show up

  EXPECT_EQ(p.seen1.Count("segmentation-update"), 1);  // the local one only
  EXPECT_EQ(p.seen2.Count("segmentation-update"), 1);
  EXPECT_EQ(p.seen1.Count("notification"), 1);
  EXPECT_EQ(p.seen2.Count("notification"), 1);
  for (const HubEvent& e : p.seen2.events()) {
    if (e.name != "segmentation-update") continue;
    EXPECT_EQ(e.user_id, "u1");
    EXPECT_EQ(e.project_id, "p1");
    EXPECT_EQ(e.data, (nlohmann::json{{"imageId", "i1"}, {"status", "done"}}));
  }
  EXPECT_EQ(p.relay1.stats().published, 1);
  EXPECT_EQ(p.relay1.stats().relayed, 1);
  EXPECT_EQ(p.relay2.stats().published, 1);
  EXPECT_EQ(p.relay2.stats().relayed, 1);
}

TEST(RedisEventRelayTest, ResumesAfterRedisRestarts) {
  auto redis = testing::RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status().ToString();
  Pair p((*redis)->url());
  ASSERT_TRUE(p.relay1.Start().ok());
  ASSERT_TRUE(p.relay2.Start().ok());
  ASSERT_TRUE(WaitSubscribed(p.relay2, seconds(5)));
  p.bus1.Publish({"before", "", "", nullptr});
  ASSERT_TRUE(p.seen2.WaitFor("before", seconds(5)));

  ASSERT_TRUE((*redis)->Restart().ok());
  // Events are best effort: keep publishing until one crosses, as a live system would.
  const auto start = SteadyClock::now();
  bool crossed = false;
  int sent = 0;
  while (!crossed && SteadyClock::now() - start < seconds(10)) {
    p.bus1.Publish({"after", "", "", {{"n", sent++}}});
    crossed = p.seen2.WaitFor("after", milliseconds(100));
  }
  ASSERT_TRUE(crossed) << "relaying did not resume within 10 s";
  EXPECT_LT(SteadyClock::now() - start, seconds(5));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(p.seen1.Count("after"), sent);  // no echoes on the sending side
  EXPECT_LE(p.seen2.Count("after"), sent);
  EXPECT_EQ(p.seen1.Count("before"), 1);
  EXPECT_EQ(p.seen2.Count("before"), 1);
}

TEST(RedisEventRelayTest, StopIsPromptWhileRedisIsDown) {
  auto redis = testing::RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status().ToString();
  EventBus bus;
  RedisEventRelay relay(&bus, (*redis)->url(), "lonely", FastOptions());
  ASSERT_TRUE(relay.Start().ok());
  ASSERT_TRUE(WaitSubscribed(relay, seconds(5)));
  ASSERT_TRUE((*redis)->Kill().ok());
  for (int i = 0; i < 100; ++i) bus.Publish({"dropped", "", "", i});  // never blocks the bus
  std::this_thread::sleep_for(milliseconds(300));
  const auto start = SteadyClock::now();
  relay.Stop();
  EXPECT_LT(SteadyClock::now() - start, seconds(2));
  EXPECT_FALSE(relay.subscribed());
  EXPECT_EQ(relay.stats().published + relay.stats().dropped, 100);
  EXPECT_EQ(bus.listener_count(), 0);
}

}  // namespace
}  // namespace seghub::hub
