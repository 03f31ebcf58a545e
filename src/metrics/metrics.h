// A small Prometheus metrics registry: counters, gauges and histograms with labels, rendered in
// the text exposition format (version 0.0.4). Names are prefixed `seghub_` by convention.
//
// Thread-safety: every method may be called from any thread. Updates to a metric are lock-free
// (atomics); creating a labelled child takes its family's mutex once, so callers that update on a
// hot path should keep the returned reference (children are never destroyed while the registry
// lives).
#ifndef SEGHUB_METRICS_METRICS_H_
#define SEGHUB_METRICS_METRICS_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace seghub::metrics {

class Counter {
 public:
  void Inc(double v = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Non-cumulative counts per bucket (last = +Inf), sum and count. Approximate under concurrency.
  std::vector<uint64_t> BucketCounts() const;
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0.0};
  std::atomic<uint64_t> count_{0};
};

enum class Type { kCounter, kGauge, kHistogram };

// A metric name with its label names, and one child per distinct label value tuple.
template <typename M>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<M>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        make_(std::move(make)) {}

  // Returns the child for these label values (created on first use). values.size() must equal
  // the number of label names.
  M& WithLabels(const std::vector<std::string>& values) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = children_[values];
    if (!slot) slot = make_();
    return *slot;
  }
  // Drops every child whose label values start with `prefix` (e.g. an unloaded model).
  void RemovePrefix(const std::vector<std::string>& prefix);

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Calls f(label_values, metric) for each child, under the family's lock.
  void ForEach(const std::function<void(const std::vector<std::string>&, const M&)>& f) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [labels, m] : children_) f(labels, *m);
  }

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<M>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;  // guarded by mu_
};

class Registry {
 public:
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> labels = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> labels = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<std::string> labels, std::vector<double> bounds);
  // Called before each Render(), e.g. to refresh gauges that are read from elsewhere.
  void AddCollector(std::function<void()> collector);

  // Prometheus text format. Families appear in registration order.
  std::string Render() const;

 private:
  struct Entry {
    Type type;
    std::unique_ptr<Family<Counter>> counter;
    std::unique_ptr<Family<Gauge>> gauge;
    std::unique_ptr<Family<Histogram>> histogram;
  };
  mutable std::mutex mu_;
  std::vector<Entry> entries_;                     // guarded by mu_
  std::vector<std::function<void()>> collectors_;  // guarded by mu_
};

// Buckets for durations in seconds, 0.5 ms .. 60 s.
std::vector<double> LatencyBuckets();

template <typename M>
void Family<M>::RemovePrefix(const std::vector<std::string>& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = children_.begin(); it != children_.end();) {
    bool match = it->first.size() >= prefix.size() &&
                 std::equal(prefix.begin(), prefix.end(), it->first.begin());
    it = match ? children_.erase(it) : std::next(it);
  }
}

}  // namespace seghub::metrics

#endif  // SEGHUB_METRICS_METRICS_H_
