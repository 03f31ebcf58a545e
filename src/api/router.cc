#include "api/router.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <exception>

#include "api/http_status.h"
#include "common/logging.h"

namespace seghub::api {
namespace {

// Label values for requests that matched no route; fixed strings keep cardinality bounded.
constexpr std::string_view kUnmatchedRoute = "<unmatched>";
constexpr std::string_view kRejectedRoute = "<rejected>";

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// A client can send any token as a method; only known ones become label values.
std::string MethodLabel(std::string_view method) {
  static constexpr std::array<std::string_view, 7> kKnown = {"GET",    "HEAD",  "POST",   "PUT",
                                                             "DELETE", "PATCH", "OPTIONS"};
  for (auto m : kKnown) {
    if (m == method) return std::string(m);
  }
  return "OTHER";
}

}  // namespace

struct Router::Metrics {
  metrics::Family<metrics::Counter>& requests;
  metrics::Family<metrics::Histogram>& duration;
};

Router::Router(metrics::Registry* registry, const Clock* clock)
    : clock_(clock ? clock : SystemClock::Get()) {
  if (registry == nullptr) return;
  metrics_ = std::make_shared<Metrics>(Metrics{
      registry->AddCounter("seghub_http_requests_total", "HTTP requests by method, route and code",
                           {"method", "route", "code"}),
      registry->AddHistogram("seghub_http_request_duration_seconds",
                             "Time from a parsed request to its response being handed to the "
                             "connection, by route",
                             {"route"}, metrics::LatencyBuckets())});
}

Status Router::Add(std::string_view method, std::string_view pattern, Handler handler) {
  if (method.empty() || pattern.empty() || pattern.front() != '/') {
    return InvalidArgument("route pattern must start with '/': '" + std::string(pattern) + "'");
  }
  Route route{std::string(method), std::string(pattern), {}, std::move(handler)};
  for (std::string_view seg : SplitPath(pattern)) {
    bool is_param = seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
    if (is_param) seg = seg.substr(1, seg.size() - 2);
    if (seg.find_first_of("{}") != std::string_view::npos || (is_param && seg.empty())) {
      return InvalidArgument("bad segment in route pattern '" + std::string(pattern) + "'");
    }
    route.segments.push_back({std::string(seg), is_param});
  }
  for (const Route& r : routes_) {
    if (r.method == route.method && r.pattern == route.pattern) {
      return InvalidArgument("duplicate route " + route.method + " " + route.pattern);
    }
  }
  routes_.push_back(std::move(route));
  return Status::Ok();
}

Status Router::AddSync(std::string_view method, std::string_view pattern, SyncHandler handler) {
  return Add(method, pattern,
             [handler = std::move(handler)](HttpRequest&& request, Responder responder) {
               responder.Send(handler(request));
             });
}

Router::MatchResult Router::Match(std::string_view method, std::string_view path) const {
  MatchResult result;
  std::vector<std::string> decoded;
  for (std::string_view seg : SplitPath(path)) {
    Result<std::string> d = UrlDecode(seg, /*plus_as_space=*/false);
    if (!d.ok()) {
      result.status = d.status();
      return result;
    }
    decoded.push_back(std::move(d).value());
  }
  // HEAD is served by the GET route unless one is registered for HEAD; the server drops the body.
  auto method_matches = [&](const Route& r) {
    return r.method == method || (method == "HEAD" && r.method == "GET" &&
                                  std::none_of(routes_.begin(), routes_.end(), [&](const Route& o) {
                                    return o.method == "HEAD" && o.pattern == r.pattern;
                                  }));
  };
  std::vector<bool> best_shape;  // literal-ness per segment of the best match so far
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    if (r.segments.size() != decoded.size()) continue;
    std::vector<bool> shape(decoded.size());
    bool ok = true;
    for (size_t s = 0; s < decoded.size() && ok; ++s) {
      shape[s] = !r.segments[s].is_param;
      ok = r.segments[s].is_param ? !decoded[s].empty() : r.segments[s].text == decoded[s];
    }
    if (!ok) continue;
    if (!method_matches(r)) {
      result.allowed_methods.push_back(r.method);
      continue;
    }
    // vector<bool> compares lexicographically with true > false: earlier literals win.
    if (result.route_index < 0 || shape > best_shape) {
      result.route_index = static_cast<int>(i);
      best_shape = std::move(shape);
    }
  }
  if (result.route_index >= 0) {
    const Route& r = routes_[result.route_index];
    for (size_t s = 0; s < decoded.size(); ++s) {
      if (r.segments[s].is_param) result.params[r.segments[s].text] = decoded[s];
    }
    result.allowed_methods.clear();
  }
  std::sort(result.allowed_methods.begin(), result.allowed_methods.end());
  result.allowed_methods.erase(
      std::unique(result.allowed_methods.begin(), result.allowed_methods.end()),
      result.allowed_methods.end());
  return result;
}

void Router::Dispatch(HttpRequest&& request, Responder responder) const {
  MatchResult m = Match(request.method, request.path);
  if (!m.status.ok()) {
    WithMetrics(request, std::string(kUnmatchedRoute), responder).SendStatus(m.status);
    return;
  }
  if (m.route_index < 0) {
    Responder r = WithMetrics(request, std::string(kUnmatchedRoute), responder);
    if (m.allowed_methods.empty()) {
      r.Send(JsonError(404, "NOT_FOUND", "no route for " + request.method + " " + request.path));
      return;
    }
    HttpResponse res =
        JsonError(405, "METHOD_NOT_ALLOWED", request.method + " is not allowed on " + request.path);
    std::string allow;
    for (const auto& a : m.allowed_methods) allow += (allow.empty() ? "" : ", ") + a;
    res.headers["Allow"] = allow;
    r.Send(std::move(res));
    return;
  }
  const Route& route = routes_[m.route_index];
  request.path_params = std::move(m.params);
  request.route = route.pattern;
  Responder r = WithMetrics(request, route.pattern, std::move(responder));
  try {
    route.handler(std::move(request), r);
  } catch (const std::exception& e) {
    // Ignored by the Responder if the handler had already answered.
    SEGHUB_LOG_ERROR("http: handler for {} threw: {}", route.pattern, e.what());
    r.Send(JsonError(500, "INTERNAL", "internal error"));
  }
}

void Router::RecordRejected(int http_status) const {
  if (!metrics_) return;
  metrics_->requests.WithLabels({"OTHER", std::string(kRejectedRoute), std::to_string(http_status)})
      .Inc();
}

Responder Router::WithMetrics(const HttpRequest& request, const std::string& route,
                              Responder responder) const {
  if (!metrics_) return responder;
  return Responder([metrics = metrics_, clock = clock_, start = clock_->Now(),
                    method = MethodLabel(request.method), route,
                    inner = std::move(responder)](HttpResponse&& res) {
    double seconds = std::chrono::duration<double>(clock->Now() - start).count();
    metrics->requests.WithLabels({method, route, std::to_string(res.status)}).Inc();
    metrics->duration.WithLabels({route}).Observe(seconds);
    inner.Send(std::move(res));
  });
}

}  // namespace seghub::api
