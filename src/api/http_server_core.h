// Internal to the server (http_server.cc, websocket_session.cc): the state an HttpServer shares
// with its connections. Not part of the API; include only from those files.
#ifndef SEGHUB_API_HTTP_SERVER_CORE_H_
#define SEGHUB_API_HTTP_SERVER_CORE_H_

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <mutex>

#include "api/http_server.h"
#include "api/router.h"

namespace seghub::api::internal {

class Session;
class WebSocketSession;

// Connections hold the Core by shared_ptr so the io_context outlives every socket, even one kept
// alive by a Responder or a WebSocketConnection after the server is gone.
struct Core {
  Core(HttpServerOptions o, const Router* r) : options(std::move(o)), router(r) {}

  HttpServerOptions options;
  const Router* router;
  boost::asio::io_context ioc;
  std::atomic<bool> draining{false};  // no new connections, no keep-alive

  std::mutex mu;
  bool stopped = false;                                 // guarded by mu: nothing more is posted
  std::map<Session*, std::weak_ptr<Session>> sessions;  // guarded by mu
  std::map<WebSocketSession*, std::weak_ptr<WebSocketSession>> websockets;  // guarded by mu
};

}  // namespace seghub::api::internal

#endif  // SEGHUB_API_HTTP_SERVER_CORE_H_
