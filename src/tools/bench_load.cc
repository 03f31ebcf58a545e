#include "tools/bench_load.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <numeric>
#include <thread>

namespace seghub::tools {

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(i, values.size() - 1)];
}

double Mean(const std::vector<double>& values) {
  if (values.empty()) return 0;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

LoadStats RunClosedLoop(int clients, double seconds, const std::function<Status(int)>& request) {
  using Clock = std::chrono::steady_clock;
  std::vector<std::vector<double>> latency(static_cast<size_t>(clients));
  std::vector<int64_t> errors(static_cast<size_t>(clients), 0);
  std::mutex error_mu;
  Status first_error;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      const auto i = static_cast<size_t>(c);
      // At least one request per client, so a very short run still reports every figure.
      do {
        const auto t0 = Clock::now();
        Status s = request(c);
        if (s.ok()) {
          latency[i].push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          continue;
        }
        ++errors[i];
        {
          std::lock_guard<std::mutex> lock(error_mu);
          if (first_error.ok()) first_error = s;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      } while (Clock::now() < end);
    });
  }
  for (auto& t : threads) t.join();
  LoadStats r;
  r.clients = clients;
  r.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (size_t i = 0; i < latency.size(); ++i) {
    all.insert(all.end(), latency[i].begin(), latency[i].end());
    r.errors += errors[i];
  }
  r.completed = static_cast<int64_t>(all.size());
  r.per_second = r.elapsed_s > 0 ? static_cast<double>(r.completed) / r.elapsed_s : 0;
  r.mean_ms = Mean(all);
  r.p50_ms = Percentile(all, 0.50);
  r.p99_ms = Percentile(all, 0.99);
  r.first_error = first_error;
  return r;
}

}  // namespace seghub::tools
