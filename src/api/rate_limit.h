// Rate limiting: token buckets per (endpoint class, client key), and a handler wrapper that
// answers 429 with Retry-After.
//
// A class allows `rate_per_s` requests per second on average and bursts of up to `burst`. Each
// (class, key) pair has its own bucket, created full on first use. Memory is bounded: at most
// `max_keys` buckets exist; beyond that the least recently used bucket is dropped (a dropped
// bucket comes back full, which errs on the side of letting a client in).
#ifndef SEGHUB_API_RATE_LIMIT_H_
#define SEGHUB_API_RATE_LIMIT_H_

#include <array>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/http_message.h"
#include "api/router.h"
#include "common/clock.h"

namespace seghub::api {

struct RateLimitClass {
  std::string name;
  double rate_per_s = 1;  // > 0
  double burst = 1;       // >= 1
};

// general 10 r/s burst 20, api 30 r/s burst 80, segmentation 100 r/s burst 100, upload 5 r/s
// burst 10.
std::vector<RateLimitClass> HubDefaultRateLimits();

// Thread-safe: any thread may call Check; buckets live in shards with a mutex each.
class RateLimiter {
 public:
  // `clock` null = SystemClock; it must outlive the limiter. Classes with a non-positive rate or
  // a burst below 1 are clamped (rate 1e-9, burst 1) so a typo cannot divide by zero.
  explicit RateLimiter(std::vector<RateLimitClass> classes, const Clock* clock = nullptr,
                       size_t max_keys = 100000);

  struct Decision {
    bool allowed = true;
    double retry_after_s = 0;  // when refused: until the bucket holds one token again
  };
  // Takes one token from the bucket of (class_name, client_key). An unknown class is not limited
  // (allowed). Any thread.
  Decision Check(std::string_view class_name, std::string_view client_key);

  // The class named `name`, or null. Any thread (the table is immutable).
  const RateLimitClass* FindClass(std::string_view name) const;
  // Buckets currently held, across all shards. Any thread.
  size_t key_count() const;

 private:
  static constexpr size_t kShards = 16;
  struct Bucket {
    double tokens;
    SteadyTime last;
    std::list<std::string>::iterator lru;  // position in Shard::lru
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;  // guarded by mu
    std::list<std::string> lru;                       // guarded by mu; front = most recent
  };

  std::vector<RateLimitClass> classes_;
  const Clock* clock_;
  size_t max_keys_per_shard_;
  std::array<Shard, kShards> shards_;
};

// The client's IP address from HttpRequest::remote_address ("1.2.3.4:5678", "::1:5678" as the
// server writes it, or "[::1]:5678"): the port is removed. Proxy headers are deliberately not
// trusted here (a client could pick its own key); pass a key_fn for that.
std::string ClientIp(std::string_view remote_address);

// The 429 response for `limit`: JSON error {"code": "rate_limited", ...} and Retry-After in
// whole seconds (at least 1).
HttpResponse RateLimitedResponse(const RateLimitClass& limit, double retry_after_s);

// Wraps a handler: over the limit of `class_name` for the client (key_fn, default ClientIp of the
// peer) the request gets a 429; otherwise it goes to `inner`. `limiter` must outlive the handler.
// The returned handler runs where `inner` would (an io thread).
Handler RateLimited(Handler inner, RateLimiter* limiter, std::string class_name,
                    std::function<std::string(const HttpRequest&)> key_fn = {});
SyncHandler RateLimitedSync(SyncHandler inner, RateLimiter* limiter, std::string class_name,
                            std::function<std::string(const HttpRequest&)> key_fn = {});

}  // namespace seghub::api

#endif  // SEGHUB_API_RATE_LIMIT_H_
