// EventBus: in-process publish/subscribe for Hub events (job progress, notifications, queue
// statistics). The WebSocket layer subscribes once per session and forwards the events whose
// user or project room the session is in; services publish without knowing who listens.
//
// Threading: every method may be called from any thread. Listeners run synchronously on the
// publishing thread (often a DB or pipeline thread), so they must be quick and must not block:
// the WebSocket layer only queues the event. A listener may publish, subscribe or unsubscribe
// (itself included) without deadlocking.
#ifndef SEGHUB_HUB_EVENT_BUS_H_
#define SEGHUB_HUB_EVENT_BUS_H_

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace seghub::hub {

struct HubEvent {
  std::string name;        // "segmentation-update", "notification", "queueStats", ...
  std::string user_id;     // recipient user room; may be empty
  std::string project_id;  // project room; may be empty
  nlohmann::json data;
};

class EventBus {
 public:
  using Listener = std::function<void(const HubEvent&)>;

  EventBus() = default;
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // Registers `listener` (the bus owns the copy) and returns its id (> 0). Events published
  // after Subscribe returns reach it. Any thread.
  int Subscribe(Listener listener);
  // Removes the listener and waits until no call of it is running on another thread, so whatever
  // it captured can be destroyed as soon as Unsubscribe returns. Called from inside that same
  // listener it does not wait for its own call. Unknown ids are ignored. Any thread.
  void Unsubscribe(int id);
  // Calls every listener with `event`, on this thread, in subscription order. Any thread.
  void Publish(const HubEvent& event);

  int listener_count() const;

 private:
  struct Entry {
    int id = 0;
    Listener listener;
    int in_flight = 0;  // calls running now; guarded by EventBus::mu_
  };

  mutable std::mutex mu_;
  std::condition_variable idle_;                     // an Entry's in_flight dropped
  std::map<int, std::shared_ptr<Entry>> listeners_;  // guarded by mu_
  int next_id_ = 1;                                  // guarded by mu_
};

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_EVENT_BUS_H_
