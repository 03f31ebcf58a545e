// HttpServer: HTTP/1.1 on Boost.Beast with keep-alive, limits, timeouts and a graceful stop.
//
// Threading model: `io_threads` threads run one io_context; every connection has its own strand,
// so a connection's reads, writes and its Responder's replies are serialised without locks. An io
// thread parses a request and calls Router::Dispatch on the connection's strand; the handler may
// answer later from any thread (see Responder). A connection reads its next request only after
// answering the previous one.
//
// Limits: a request head over `max_header_bytes` gets 431, a body over `max_body_bytes` 413 (both
// JSON, then the connection closes); anything unparseable 400. A client that takes longer than
// `header_timeout` to send a request head (this also bounds keep-alive idle time) or
// `body_timeout` for the body is disconnected. No input makes the server throw or abort.
//
// WebSockets: an upgrade request on a Router::AddWebSocket route goes to its acceptor; once
// accepted the connection leaves the HTTP request cycle (see websocket.h). Stop() sends every open
// WebSocket a close frame (1001, going away) and drops whatever has not closed within
// shutdown_grace.
//
// Responses: HttpResponse::set_cookies become one Set-Cookie line each.
//
// Ownership: the caller owns the server; `router` must outlive it.
#ifndef SEGHUB_API_HTTP_SERVER_H_
#define SEGHUB_API_HTTP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "api/router.h"
#include "common/status.h"

namespace seghub::api {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: the OS picks a free port; read it back with port()
  int io_threads = 2;
  int64_t max_body_bytes = int64_t{256} << 20;
  uint32_t max_header_bytes = 64 << 10;
  std::chrono::milliseconds header_timeout{30'000};
  std::chrono::milliseconds body_timeout{300'000};
  std::chrono::milliseconds write_timeout{300'000};
  // How long Stop() waits for requests in progress before closing their connections.
  std::chrono::milliseconds shutdown_grace{10'000};
  // WebSocket limits: the largest message a client may send (bigger closes the connection, 1009),
  // the bytes queued by Send() before a slow consumer is disconnected, and how long a silent peer
  // is kept (the server pings at half this interval; a peer that answers nothing is dropped).
  size_t websocket_max_message_bytes = 64 << 10;
  size_t websocket_max_queued_bytes = size_t{4} << 20;
  std::chrono::milliseconds websocket_idle_timeout{300'000};
};

class HttpServer {
 public:
  // Binds, listens and starts the io threads. Errors: kInvalidArgument (bad options),
  // kUnavailable (host does not resolve, or the port cannot be bound).
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options, const Router* router);
  ~HttpServer();  // Stop()

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the real one when options.port was 0). Any thread.
  uint16_t port() const;
  const std::string& host() const;

  // Closes the listening socket and idle keep-alive connections; requests in progress still get
  // their responses (with Connection: close). Returns at once. Any thread; idempotent.
  void StopAccepting();
  // StopAccepting(), waits up to shutdown_grace for responses in progress, closes what is left
  // and joins the io threads. Responses sent later are dropped. Any thread but an io thread;
  // idempotent.
  void Stop();

  class Impl;
  // Use Start(); Impl is private to http_server.cc.
  explicit HttpServer(std::shared_ptr<Impl> impl);

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace seghub::api

#endif  // SEGHUB_API_HTTP_SERVER_H_
