// Router: method + path pattern -> handler, with "{param}" segments ("/v2/models/{model}/infer")
// and an optional trailing catch-all "{*rest}" that takes the rest of the path ("/ui/{*file}"
// matches "/ui", "/ui/" and "/ui/a/b.js" with file = "", "" and "a/b.js").
//
// Handlers complete asynchronously: an io thread calls the handler, which may only parse and
// enqueue, keeping the Responder to answer later from an engine worker. Unknown paths get a 404,
// known paths with the wrong method a 405 with an Allow header, both as JSON. A literal segment
// beats a {param} at the same position, so "/v2/models/stats" wins over "/v2/models/{model}".
// A route without a catch-all beats one with; among catch-alls the longer fixed part wins. A
// catch-all never turns a 405 into a match: when another (non-catch-all) route has the path but
// not the method, the answer is still 405, and a catch-all route's own method never appears in
// Allow (so POST to an unknown path stays a 404 next to a GET "/{*rest}").
//
// WebSocket routes (AddWebSocket) are GET routes: the server asks MatchWebSocket for an upgrade
// request's acceptor; a plain GET on them is answered 426 (Upgrade Required) as JSON.
//
// Metrics (when given a registry): seghub_http_requests_total{method,route,code},
// seghub_http_request_duration_seconds{route} and the gauge seghub_websocket_connections, labelled
// by the pattern, never the raw path, so a client cannot blow up the series count. Create at most
// one Router per registry.
//
// Threading: register every route before the server starts; afterwards Dispatch() is called
// concurrently from io threads and only reads the table.
#ifndef SEGHUB_API_ROUTER_H_
#define SEGHUB_API_ROUTER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_message.h"
#include "api/responder.h"
#include "api/websocket.h"
#include "common/clock.h"
#include "common/status.h"
#include "metrics/metrics.h"

namespace seghub::api {

// Owns the request; must eventually call responder.Send() once (from any thread).
using Handler = std::function<void(HttpRequest&&, Responder)>;
// For handlers that answer at once on the io thread; keep them short (no inference).
using SyncHandler = std::function<HttpResponse(const HttpRequest&)>;

class Router {
 public:
  // `registry` may be null (no metrics); it must outlive the Router. `clock` null = SystemClock.
  explicit Router(metrics::Registry* registry = nullptr, const Clock* clock = nullptr);

  // kInvalidArgument on a malformed pattern or a duplicate (method, pattern).
  Status Add(std::string_view method, std::string_view pattern, Handler handler);
  Status AddSync(std::string_view method, std::string_view pattern, SyncHandler handler);

  // A WebSocket endpoint at `pattern` (a GET route). kInvalidArgument as Add.
  Status AddWebSocket(std::string_view pattern, WebSocketAcceptor acceptor);

  // For the server: the acceptor of the WebSocket route that `request.path` matches (fills
  // request->path_params and request->route), or null when the path has no WebSocket route.
  // Thread-safe (read-only).
  const WebSocketAcceptor* MatchWebSocket(HttpRequest* request) const;
  // For the server: a WebSocket opened (+1) or ended (-1); updates the gauge. Any thread.
  void RecordWebSocket(int delta) const;

  // Matches, fills request.path_params and request.route, calls the handler (or answers
  // 404/405/400). A handler that throws gets a 500. Thread-safe (see above).
  void Dispatch(HttpRequest&& request, Responder responder) const;

  // Counts a request the server rejected before routing (400, 408, 413, 431).
  void RecordRejected(int http_status) const;

  struct MatchResult {
    int route_index = -1;                       // -1: no route for this method
    std::map<std::string, std::string> params;  // decoded
    std::vector<std::string> allowed_methods;   // when the path matched other methods only
    Status status;                              // kInvalidArgument on a bad escape in the path
  };
  // Every registered (method, pattern), in registration order: for documentation checks.
  std::vector<std::pair<std::string, std::string>> Routes() const;

  // Exposed for tests; `path` is percent-encoded (as on the wire).
  MatchResult Match(std::string_view method, std::string_view path) const;

 private:
  struct Segment {
    std::string text;  // literal, or the parameter name
    bool is_param = false;
    bool is_catch_all = false;  // "{*name}"; only as the last segment
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
    WebSocketAcceptor websocket;  // set for AddWebSocket routes
  };
  struct Metrics;

  static bool MatchSegments(const std::vector<Segment>& route_segments,
                            const std::vector<std::string>& decoded, std::vector<bool>* shape,
                            std::map<std::string, std::string>* params);
  Status AddRoute(Route route);
  Responder WithMetrics(const HttpRequest& request, const std::string& route,
                        Responder responder) const;

  std::vector<Route> routes_;
  std::shared_ptr<Metrics> metrics_;  // null without a registry
  const Clock* clock_;
};

}  // namespace seghub::api

#endif  // SEGHUB_API_ROUTER_H_
