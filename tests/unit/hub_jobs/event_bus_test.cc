#include "hub/event_bus.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace seghub::hub {
namespace {

TEST(EventBusTest, DeliversToEverySubscriberUntilUnsubscribed) {
  EventBus bus;
  std::vector<std::string> a, b;
  int ida = bus.Subscribe([&](const HubEvent& e) { a.push_back(e.name); });
  int idb = bus.Subscribe([&](const HubEvent& e) { b.push_back(e.name); });
  bus.Publish({"one", "u", "p", {}});
  bus.Unsubscribe(ida);
  bus.Publish({"two", "u", "p", {}});
  EXPECT_EQ(a, (std::vector<std::string>{"one"}));
  EXPECT_EQ(b, (std::vector<std::string>{"one", "two"}));
  bus.Unsubscribe(idb);
  bus.Unsubscribe(12345);  // unknown: ignored
  EXPECT_EQ(bus.listener_count(), 0);
}

TEST(EventBusTest, ListenerMayUnsubscribeItselfAndOthers) {
  EventBus bus;
  int calls_b = 0;
  int idb = 0;
  int ida = 0;
  ida = bus.Subscribe([&](const HubEvent&) {
    bus.Unsubscribe(ida);
    bus.Unsubscribe(idb);
  });
  idb = bus.Subscribe([&](const HubEvent&) { ++calls_b; });
  bus.Publish({"x", "", "", {}});
  EXPECT_EQ(calls_b, 0);
  EXPECT_EQ(bus.listener_count(), 0);
}

TEST(EventBusTest, UnsubscribeWaitsForRunningCall) {
  EventBus bus;
  std::atomic<bool> entered{false}, finished{false};
  int id = bus.Subscribe([&](const HubEvent&) {
    entered = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    finished = true;
  });
  std::thread publisher([&] { bus.Publish({"slow", "", "", {}}); });
  while (!entered) std::this_thread::yield();
  bus.Unsubscribe(id);
  EXPECT_TRUE(finished);
  publisher.join();
}

}  // namespace
}  // namespace seghub::hub
