#include "hub/event_bus.h"

#include <vector>

namespace seghub::hub {
namespace {

// Ids of the listeners this thread is running right now (nested when a listener publishes), so
// that a listener unsubscribing itself does not wait for its own call to end.
thread_local std::vector<int> tls_running;

int RunningOnThisThread(int id) {
  int n = 0;
  for (int running : tls_running) n += running == id ? 1 : 0;
  return n;
}

}  // namespace

int EventBus::Subscribe(Listener listener) {
  std::lock_guard<std::mutex> lock(mu_);
  auto entry = std::make_shared<Entry>();
  entry->id = next_id_++;
  entry->listener = std::move(listener);
  listeners_.emplace(entry->id, entry);
  return entry->id;
}

void EventBus::Unsubscribe(int id) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = listeners_.find(id);
  if (it == listeners_.end()) return;
  std::shared_ptr<Entry> entry = it->second;
  listeners_.erase(it);
  const int own = RunningOnThisThread(id);
  idle_.wait(lock, [&] { return entry->in_flight <= own; });
}

void EventBus::Publish(const HubEvent& event) {
  std::vector<std::shared_ptr<Entry>> targets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    targets.reserve(listeners_.size());
    for (auto& [id, entry] : listeners_) targets.push_back(entry);
  }
  for (const std::shared_ptr<Entry>& entry : targets) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Unsubscribed meanwhile (maybe by an earlier listener of this very event): skip it. Only
      // calls that really start count as in flight, so Unsubscribe never waits for a call that
      // is merely pending behind the caller itself.
      if (listeners_.count(entry->id) == 0) continue;
      ++entry->in_flight;
    }
    tls_running.push_back(entry->id);
    entry->listener(event);  // a throwing listener is a bug; nothing here catches it
    tls_running.pop_back();
    std::lock_guard<std::mutex> lock(mu_);
    --entry->in_flight;
    idle_.notify_all();
  }
}

int EventBus::listener_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(listeners_.size());
}

}  // namespace seghub::hub
