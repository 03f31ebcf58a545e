// FairQueue: pending work ordered by priority, then shared fairly between clients.
//
// Strict priority across levels (higher first). Within a level, clients take turns: deficit round
// robin with a quantum of one request and unit cost, i.e. one request per client per turn, which
// is exact fairness when every request costs the same (one sample of one shape). A client that
// queued 1,000 requests therefore delays another client's single request by at most one turn.
// Each client's own requests stay FIFO.
//
// Batches are formed from requests with the same batch key (their shape): the key of the request
// fairness picks next; the turn then goes round taking each client's head while it has that key.
//
// Not thread-safe: the owner (one model's scheduler) guards it with its mutex.
#ifndef SEGHUB_ENGINE_FAIR_QUEUE_H_
#define SEGHUB_ENGINE_FAIR_QUEUE_H_

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "engine/batch_policy.h"

namespace seghub::engine {

template <typename Item>
class FairQueue {
 public:
  struct Entry {
    Item item;
    std::string client;
    int priority = 0;
    std::string key;  // batch key: only equal keys share a batch
    SteadyTime enqueued{};
  };

  void Push(Entry e) {
    Level& level = levels_[e.priority];
    auto it = std::find_if(level.ring.begin(), level.ring.end(),
                           [&](const ClientQueue& q) { return q.client == e.client; });
    if (it == level.ring.end()) {
      level.ring.push_back(ClientQueue{e.client, {}});
      it = std::prev(level.ring.end());
    }
    it->items.push_back(std::move(e));
    ++size_;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // What DecideBatch needs: how many requests could join the next batch (counted up to `cap`),
  // the oldest of them, and whether anything else waits.
  QueueSnapshot Snapshot(int cap) const {
    QueueSnapshot s;
    const Level* level = TopLevel();
    if (level == nullptr) return s;
    const std::string& key = NextKey(*level);
    bool first = true;
    for (const ClientQueue& q : level->ring) {
      for (const Entry& e : q.items) {
        if (e.key != key) break;  // per-client FIFO: stop at the first other shape
        if (first || e.enqueued < s.oldest_enqueue) s.oldest_enqueue = e.enqueued;
        first = false;
        if (s.batchable < cap) ++s.batchable;
      }
    }
    s.only_shape = static_cast<size_t>(s.batchable) == size_;
    return s;
  }

  // Takes up to n requests that share the next key, in fair order, and moves the turn on.
  std::vector<Entry> PopBatch(int n) {
    std::vector<Entry> out;
    auto lit = levels_.begin();
    if (lit == levels_.end() || n <= 0) return out;
    Level& level = lit->second;
    const std::string key = NextKey(level);
    size_t idle_turns = 0;      // consecutive clients that had nothing to give
    std::string first_skipped;  // passed over for its shape: keeps its turn for the next batch
    while (static_cast<int>(out.size()) < n && !level.ring.empty() &&
           idle_turns < level.ring.size()) {
      level.cursor %= level.ring.size();
      ClientQueue& q = level.ring[level.cursor];
      if (!q.items.empty() && q.items.front().key == key) {
        out.push_back(std::move(q.items.front()));
        q.items.pop_front();
        --size_;
        idle_turns = 0;
      } else {
        if (first_skipped.empty()) first_skipped = q.client;
        ++idle_turns;
      }
      if (q.items.empty()) {
        level.ring.erase(level.ring.begin() + static_cast<long>(level.cursor));
      } else {
        ++level.cursor;
      }
    }
    if (level.ring.empty()) {
      levels_.erase(lit);
    } else if (!first_skipped.empty()) {
      for (size_t i = 0; i < level.ring.size(); ++i) {
        if (level.ring[i].client == first_skipped) level.cursor = i;
      }
    }
    return out;
  }

  // Removes every entry matching `pred` (e.g. cancelled or expired), appending them to *out.
  void RemoveIf(const std::function<bool(const Entry&)>& pred, std::vector<Entry>* out) {
    for (auto lit = levels_.begin(); lit != levels_.end();) {
      Level& level = lit->second;
      for (size_t i = 0; i < level.ring.size();) {
        auto& items = level.ring[i].items;
        for (auto it = items.begin(); it != items.end();) {
          if (pred(*it)) {
            out->push_back(std::move(*it));
            it = items.erase(it);
            --size_;
          } else {
            ++it;
          }
        }
        if (items.empty()) {
          level.ring.erase(level.ring.begin() + static_cast<long>(i));
          if (level.cursor > i) --level.cursor;
        } else {
          ++i;
        }
      }
      lit = level.ring.empty() ? levels_.erase(lit) : std::next(lit);
    }
  }

  // The request fairness picks next (its key decides the batch), or null when empty.
  const Entry* PeekNext() const {
    const Level* level = TopLevel();
    if (level == nullptr) return nullptr;
    return &level->ring[level->cursor % level->ring.size()].items.front();
  }

  // Pending requests of one client (all priorities).
  size_t ClientSize(const std::string& client) const {
    size_t n = 0;
    for (const auto& [p, level] : levels_) {
      for (const ClientQueue& q : level.ring) {
        if (q.client == client) n += q.items.size();
      }
    }
    return n;
  }

 private:
  struct ClientQueue {
    std::string client;
    std::deque<Entry> items;
  };
  struct Level {
    std::vector<ClientQueue> ring;  // clients with pending requests, in turn order
    size_t cursor = 0;              // whose turn it is
  };

  const Level* TopLevel() const { return levels_.empty() ? nullptr : &levels_.begin()->second; }
  static const std::string& NextKey(const Level& level) {
    return level.ring[level.cursor % level.ring.size()].items.front().key;
  }

  std::map<int, Level, std::greater<int>> levels_;  // highest priority first; no empty levels
  size_t size_ = 0;
};

}  // namespace seghub::engine

#endif  // SEGHUB_ENGINE_FAIR_QUEUE_H_
