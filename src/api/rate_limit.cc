#include "api/rate_limit.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>

#include "api/http_status.h"

namespace seghub::api {

std::vector<RateLimitClass> HubDefaultRateLimits() {
  return {{"general", 10, 20}, {"api", 30, 80}, {"segmentation", 100, 100}, {"upload", 5, 10}};
}

RateLimiter::RateLimiter(std::vector<RateLimitClass> classes, const Clock* clock, size_t max_keys)
    : classes_(std::move(classes)),
      clock_(clock ? clock : SystemClock::Get()),
      max_keys_per_shard_(std::max<size_t>(1, (max_keys + kShards - 1) / kShards)) {
  for (RateLimitClass& c : classes_) {
    if (!(c.rate_per_s > 0)) c.rate_per_s = 1e-9;
    if (!(c.burst >= 1)) c.burst = 1;
  }
}

const RateLimitClass* RateLimiter::FindClass(std::string_view name) const {
  for (const RateLimitClass& c : classes_) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

RateLimiter::Decision RateLimiter::Check(std::string_view class_name, std::string_view client_key) {
  const RateLimitClass* limit = FindClass(class_name);
  if (limit == nullptr) return {};
  // The class index keeps equal client keys of different classes apart.
  std::string key = std::to_string(limit - classes_.data()) + '\n' + std::string(client_key);
  Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
  SteadyTime now = clock_->Now();
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= max_keys_per_shard_) {
      shard.buckets.erase(shard.lru.back());
      shard.lru.pop_back();
    }
    shard.lru.push_front(key);
    it = shard.buckets.emplace(std::move(key), Bucket{limit->burst, now, shard.lru.begin()}).first;
  } else {
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru);
  }
  Bucket& b = it->second;
  double elapsed = std::max(0.0, std::chrono::duration<double>(now - b.last).count());
  b.tokens = std::min(limit->burst, b.tokens + elapsed * limit->rate_per_s);
  b.last = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return {true, 0};
  }
  return {false, (1 - b.tokens) / limit->rate_per_s};
}

size_t RateLimiter::key_count() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.buckets.size();
  }
  return n;
}

std::string ClientIp(std::string_view remote_address) {
  if (!remote_address.empty() && remote_address.front() == '[') {
    size_t close = remote_address.find(']');
    return std::string(remote_address.substr(
        1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  size_t colon = remote_address.rfind(':');
  if (colon == std::string_view::npos) return std::string(remote_address);
  // "1.2.3.4:5678" and the server's "::1:5678" both end in ":port".
  return std::string(remote_address.substr(0, colon));
}

HttpResponse RateLimitedResponse(const RateLimitClass& limit, double retry_after_s) {
  auto seconds = static_cast<int64_t>(std::max(1.0, std::ceil(retry_after_s)));
  std::ostringstream message;
  message << "rate limit exceeded for '" << limit.name << "': " << limit.rate_per_s
          << " requests/s (burst " << limit.burst << "); retry in " << seconds << " s";
  HttpResponse res = JsonError(429, "rate_limited", message.str());
  res.headers["Retry-After"] = std::to_string(seconds);
  return res;
}

namespace {

// Null when the request may go on, else the 429 to send.
std::optional<HttpResponse> Limit(RateLimiter* limiter, const std::string& class_name,
                                  const std::function<std::string(const HttpRequest&)>& key_fn,
                                  const HttpRequest& request) {
  std::string key = key_fn ? key_fn(request) : ClientIp(request.remote_address);
  RateLimiter::Decision d = limiter->Check(class_name, key);
  if (d.allowed) return std::nullopt;
  return RateLimitedResponse(*limiter->FindClass(class_name), d.retry_after_s);
}

}  // namespace

Handler RateLimited(Handler inner, RateLimiter* limiter, std::string class_name,
                    std::function<std::string(const HttpRequest&)> key_fn) {
  return [inner = std::move(inner), limiter, class_name = std::move(class_name),
          key_fn = std::move(key_fn)](HttpRequest&& request, Responder responder) {
    if (auto refused = Limit(limiter, class_name, key_fn, request)) {
      responder.Send(std::move(*refused));
      return;
    }
    inner(std::move(request), std::move(responder));
  };
}

SyncHandler RateLimitedSync(SyncHandler inner, RateLimiter* limiter, std::string class_name,
                            std::function<std::string(const HttpRequest&)> key_fn) {
  return [inner = std::move(inner), limiter, class_name = std::move(class_name),
          key_fn = std::move(key_fn)](const HttpRequest& request) {
    if (auto refused = Limit(limiter, class_name, key_fn, request)) return std::move(*refused);
    return inner(request);
  };
}

}  // namespace seghub::api
