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
  metrics::Gauge& websockets;
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
                             {"route"}, metrics::LatencyBuckets()),
      registry->AddGauge("seghub_websocket_connections", "Open WebSocket connections")
          .WithLabels({})});
}

Status Router::Add(std::string_view method, std::string_view pattern, Handler handler) {
  if (method.empty() || pattern.empty() || pattern.front() != '/') {
    return InvalidArgument("route pattern must start with '/': '" + std::string(pattern) + "'");
  }
  return AddRoute(Route{std::string(method), std::string(pattern), {}, std::move(handler), {}});
}

Status Router::AddRoute(Route route) {
  const std::string& pattern = route.pattern;
  std::vector<std::string_view> segments = SplitPath(pattern);
  for (size_t i = 0; i < segments.size(); ++i) {
    std::string_view seg = segments[i];
    bool is_param = seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
    if (is_param) seg = seg.substr(1, seg.size() - 2);
    bool is_catch_all = is_param && !seg.empty() && seg.front() == '*';
    if (is_catch_all) seg.remove_prefix(1);
    if (seg.find_first_of("{}*") != std::string_view::npos || (is_param && seg.empty()) ||
        (is_catch_all && i + 1 != segments.size())) {
      return InvalidArgument("bad segment in route pattern '" + pattern + "'");
    }
    route.segments.push_back({std::string(seg), is_param, is_catch_all});
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

Status Router::AddWebSocket(std::string_view pattern, WebSocketAcceptor acceptor) {
  if (pattern.empty() || pattern.front() != '/' || !acceptor) {
    return InvalidArgument("bad WebSocket route '" + std::string(pattern) + "'");
  }
  // Reached only by a GET without a valid upgrade; the server hands upgrades to the acceptor.
  Handler plain = [](HttpRequest&& request, Responder responder) {
    HttpResponse res =
        JsonError(426, "UPGRADE_REQUIRED",
                  request.path + " is a WebSocket endpoint; send an upgrade request");
    res.headers["Upgrade"] = "websocket";
    responder.Send(std::move(res));
  };
  return AddRoute(Route{"GET", std::string(pattern), {}, std::move(plain), std::move(acceptor)});
}

const WebSocketAcceptor* Router::MatchWebSocket(HttpRequest* request) const {
  MatchResult m = Match("GET", request->path);
  if (!m.status.ok() || m.route_index < 0) return nullptr;
  const Route& route = routes_[m.route_index];
  if (!route.websocket) return nullptr;
  request->path_params = std::move(m.params);
  request->route = route.pattern;
  return &route.websocket;
}

void Router::RecordWebSocket(int delta) const {
  if (metrics_) metrics_->websockets.Add(delta);
}

// Whether `route_segments` match `decoded`; fills `shape` (literal-ness per path segment, for
// ranking) and the parameter values.
bool Router::MatchSegments(const std::vector<Segment>& route_segments,
                           const std::vector<std::string>& decoded, std::vector<bool>* shape,
                           std::map<std::string, std::string>* params) {
  bool catch_all = !route_segments.empty() && route_segments.back().is_catch_all;
  size_t fixed = route_segments.size() - (catch_all ? 1 : 0);
  if (catch_all ? decoded.size() < fixed : decoded.size() != fixed) return false;
  shape->assign(decoded.size(), false);
  for (size_t s = 0; s < fixed; ++s) {
    const Segment& seg = route_segments[s];
    (*shape)[s] = !seg.is_param;
    if (seg.is_param ? decoded[s].empty() : seg.text != decoded[s]) return false;
    if (seg.is_param) (*params)[seg.text] = decoded[s];
  }
  if (catch_all) {
    std::string rest;
    for (size_t s = fixed; s < decoded.size(); ++s) rest += (s == fixed ? "" : "/") + decoded[s];
    (*params)[route_segments.back().text] = std::move(rest);
  }
  return true;
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
  // Ranking: no catch-all first, then vector<bool> order (true > false: earlier literals win).
  std::pair<bool, std::vector<bool>> best;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    std::pair<bool, std::vector<bool>> rank;
    std::map<std::string, std::string> params;
    if (!MatchSegments(r.segments, decoded, &rank.second, &params)) continue;
    rank.first = r.segments.empty() || !r.segments.back().is_catch_all;
    if (!method_matches(r)) {
      if (rank.first) result.allowed_methods.push_back(r.method);
      continue;
    }
    if (result.route_index < 0 || rank > best) {
      result.route_index = static_cast<int>(i);
      result.params = std::move(params);
      best = std::move(rank);
    }
  }
  // A catch-all must not hide a 405 from an exact route.
  if (result.route_index >= 0 && !best.first && !result.allowed_methods.empty()) {
    result.route_index = -1;
    result.params.clear();
  }
  if (result.route_index >= 0) result.allowed_methods.clear();
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

std::vector<std::pair<std::string, std::string>> Router::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(routes_.size());
  for (const Route& r : routes_) out.emplace_back(r.method, r.pattern);
  return out;
}

}  // namespace seghub::api
