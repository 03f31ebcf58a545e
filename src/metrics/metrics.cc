#include "metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace seghub::metrics {
namespace {

void AtomicAdd(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string EscapeLabel(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string EscapeHelp(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

// {a="1",b="2"} plus an optional extra label (le for histograms).
std::string LabelSet(const std::vector<std::string>& names, const std::vector<std::string>& values,
                     const std::string& extra_name = "", const std::string& extra_value = "") {
  std::string s;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    s += (s.empty() ? "" : ",") + names[i] + "=\"" + EscapeLabel(values[i]) + "\"";
  }
  if (!extra_name.empty()) s += (s.empty() ? "" : ",") + extra_name + "=\"" + extra_value + "\"";
  return s.empty() ? "" : "{" + s + "}";
}

template <typename M>
void Header(std::ostringstream& os, const Family<M>& f, const char* type) {
  os << "# HELP " << f.name() << ' ' << EscapeHelp(f.help()) << '\n';
  os << "# TYPE " << f.name() << ' ' << type << '\n';
}

}  // namespace

void Counter::Inc(double v) { AtomicAdd(value_, v); }
void Gauge::Add(double v) { AtomicAdd(value_, v); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry e{Type::kCounter, nullptr, nullptr, nullptr};
  e.counter = std::make_unique<Family<Counter>>(name, help, std::move(labels),
                                                [] { return std::make_unique<Counter>(); });
  entries_.push_back(std::move(e));
  return *entries_.back().counter;
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help,
                                  std::vector<std::string> labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry e{Type::kGauge, nullptr, nullptr, nullptr};
  e.gauge = std::make_unique<Family<Gauge>>(name, help, std::move(labels),
                                            [] { return std::make_unique<Gauge>(); });
  entries_.push_back(std::move(e));
  return *entries_.back().gauge;
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          std::vector<std::string> labels,
                                          std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry e{Type::kHistogram, nullptr, nullptr, nullptr};
  e.histogram = std::make_unique<Family<Histogram>>(
      name, help, std::move(labels), [bounds] { return std::make_unique<Histogram>(bounds); });
  entries_.push_back(std::move(e));
  return *entries_.back().histogram;
}

void Registry::AddCollector(std::function<void()> collector) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::Render() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    collectors = collectors_;
  }
  for (const auto& c : collectors) c();
  std::ostringstream os;
  std::lock_guard<std::mutex> lock(mu_);
  for (const Entry& e : entries_) {
    if (e.type == Type::kCounter) {
      Header(os, *e.counter, "counter");
      e.counter->ForEach([&](const std::vector<std::string>& lv, const Counter& c) {
        os << e.counter->name() << LabelSet(e.counter->label_names(), lv) << ' '
           << FormatValue(c.Value()) << '\n';
      });
    } else if (e.type == Type::kGauge) {
      Header(os, *e.gauge, "gauge");
      e.gauge->ForEach([&](const std::vector<std::string>& lv, const Gauge& g) {
        os << e.gauge->name() << LabelSet(e.gauge->label_names(), lv) << ' '
           << FormatValue(g.Value()) << '\n';
      });
    } else {
      const auto& f = *e.histogram;
      Header(os, f, "histogram");
      f.ForEach([&](const std::vector<std::string>& lv, const Histogram& h) {
        auto counts = h.BucketCounts();
        uint64_t cum = 0;
        for (size_t i = 0; i < counts.size(); ++i) {
          cum += counts[i];
          std::string le = i < h.bounds().size() ? FormatValue(h.bounds()[i]) : "+Inf";
          os << f.name() << "_bucket" << LabelSet(f.label_names(), lv, "le", le) << ' ' << cum
             << '\n';
        }
        os << f.name() << "_sum" << LabelSet(f.label_names(), lv) << ' ' << FormatValue(h.Sum())
           << '\n';
        os << f.name() << "_count" << LabelSet(f.label_names(), lv) << ' ' << cum << '\n';
      });
    }
  }
  return os.str();
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

}  // namespace seghub::metrics
