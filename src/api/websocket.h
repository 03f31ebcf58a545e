// WebSocket routes: the types a route sees; Beast stays inside the server (websocket_session.cc).
//
// A route registers a WebSocketAcceptor with Router::AddWebSocket. For an upgrade request the
// server calls the acceptor on an io thread; it may refuse (any error Status, answered as HTTP by
// StatusToResponse, e.g. kUnauthenticated -> 401) or return the callbacks. Only then does the
// server complete the WebSocket handshake and start reading frames.
#ifndef SEGHUB_API_WEBSOCKET_H_
#define SEGHUB_API_WEBSOCKET_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "api/http_message.h"
#include "common/status.h"

namespace seghub::api {

// Server side of one WebSocket; thread-safe. Send() queues a text frame (posted to the
// connection's strand); when more than `max_queued_bytes` (HttpServerOptions, default 4 MiB) are
// waiting the socket is closed (slow consumer) rather than growing without bound. Frames sent
// before the handshake completes are queued and go out right after it.
class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;
  // Any thread. Ignored once the connection is closing or closed.
  virtual void Send(std::string text) = 0;
  // Any thread. Sends what is already queued, then a normal close frame.
  virtual void Close() = 0;
  // Any thread. True once Close() was called or the connection ended.
  virtual bool closed() const = 0;
};

struct WebSocketCallbacks {
  // A complete text message. Called on an io thread (the connection's strand, so never
  // concurrently for one connection); keep it short. Binary messages close the connection (1003).
  std::function<void(std::string)> on_message;
  // Called on an io thread exactly once when the connection ends for any reason (including a
  // failed handshake). The callbacks are destroyed right after, which breaks the usual cycle of a
  // callback holding the connection.
  std::function<void()> on_close;
};

// Called on an io thread with the upgrade request (headers, cookies, query, path_params) and the
// new connection (not yet sending); return an error Status to refuse, or the callbacks.
using WebSocketAcceptor = std::function<Result<WebSocketCallbacks>(
    const HttpRequest&, std::shared_ptr<WebSocketConnection>)>;

}  // namespace seghub::api

#endif  // SEGHUB_API_WEBSOCKET_H_
