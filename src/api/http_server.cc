// Beast stays inside the server (this file and websocket_session.cc): nothing above it sees a
// Beast type.
#include "api/http_server.h"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "api/http_server_core.h"
#include "api/http_status.h"
#include "api/websocket_session.h"
#include "common/logging.h"

namespace seghub::api {
namespace internal {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// After a response with Connection: close we keep reading (and discarding) for a moment, so that
// unread request bytes do not make the kernel answer with a RST that destroys the response.
constexpr auto kLingerTime = std::chrono::milliseconds(1000);
constexpr size_t kLingerMaxBytes = size_t{16} << 20;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Core> core, tcp::socket socket)
      : core_(std::move(core)), stream_(std::move(socket)) {}

  ~Session() {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->sessions.erase(this);
  }

  // Called once, right after accepting, on the connection's strand.
  void Start() {
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      core_->sessions[this] = weak_from_this();
    }
    beast::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    ReadHeader();
  }

  // Posted by StopAccepting: an idle keep-alive connection is closed, a busy one finishes.
  void CloseIfIdle() {
    if (state_ == State::kReadingHeader && !(parser_ && parser_->got_some())) Close();
  }

  // Thread-safe: hands the response to the strand, unless the server has stopped.
  void PostResponse(HttpResponse&& response) {
    std::lock_guard<std::mutex> lock(core_->mu);
    if (core_->stopped) return;
    net::post(stream_.get_executor(),
              [self = shared_from_this(), r = std::move(response)]() mutable {
                self->Write(std::move(r));
              });
  }

  void Close() {
    if (state_ == State::kClosed) return;  // also: the socket may belong to a WebSocket now
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
    state_ = State::kClosed;
  }

  net::any_io_executor executor() { return stream_.get_executor(); }

 private:
  enum class State { kReadingHeader, kReadingBody, kHandling, kWriting, kLingering, kClosed };

  void ReadHeader();
  void OnHeader(beast::error_code ec);
  void ReadBody();
  void OnBody(beast::error_code ec);
  void OnReadError(beast::error_code ec);
  void Dispatch();
  void Upgrade(http::request<http::string_body>&& msg, HttpRequest&& req,
               const WebSocketAcceptor& acceptor);
  void Write(HttpResponse&& response);
  void OnWrite(bool keep_alive, beast::error_code ec);
  void Linger();
  void SendError(int status, std::string_view code, std::string message);

  std::shared_ptr<Core> core_;  // first member: destroyed last, after the socket
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::string continue_;  // "100 Continue" bytes while they are being written
  std::vector<char> linger_buf_;
  size_t lingered_ = 0;
  State state_ = State::kReadingHeader;
  std::string remote_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool is_head_ = false;
};

void Session::ReadHeader() {
  state_ = State::kReadingHeader;
  if (core_->draining) return Close();
  parser_.emplace();
  parser_->header_limit(core_->options.max_header_bytes);
  parser_->body_limit(static_cast<uint64_t>(core_->options.max_body_bytes));
  stream_.expires_after(core_->options.header_timeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

void Session::OnHeader(beast::error_code ec) {
  if (ec) return OnReadError(ec);
  const auto& head = parser_->get();
  version_ = head.version();
  if (!beast::iequals(head[http::field::expect], "100-continue") || version_ < 11) {
    return ReadBody();
  }
  // Clients that ask first (curl for large uploads) would otherwise wait before sending a body.
  continue_ = "HTTP/1.1 100 Continue\r\n\r\n";
  stream_.expires_after(core_->options.write_timeout);
  net::async_write(stream_, net::buffer(continue_),
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     if (ec) return self->Close();
                     self->ReadBody();
                   });
}

void Session::ReadBody() {
  state_ = State::kReadingBody;
  stream_.expires_after(core_->options.body_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
}

void Session::OnBody(beast::error_code ec) {
  if (ec) return OnReadError(ec);
  Dispatch();
}

void Session::OnReadError(beast::error_code ec) {
  if (ec == http::error::body_limit) {
    return SendError(413, "PAYLOAD_TOO_LARGE",
                     "request body exceeds the limit of " +
                         std::to_string(core_->options.max_body_bytes) + " bytes");
  }
  if (ec == http::error::header_limit) {
    return SendError(431, "HEADER_TOO_LARGE",
                     "request head exceeds the limit of " +
                         std::to_string(core_->options.max_header_bytes) + " bytes");
  }
  // end_of_stream: the client closed between requests, which is how keep-alive ends.
  if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return SendError(400, "BAD_REQUEST", "malformed HTTP request: " + ec.message());
  }
  if (ec == beast::error::timeout) {
    SEGHUB_LOG_DEBUG("http: {} timed out; closing", remote_);
  }
  Close();
}

void Session::SendError(int status, std::string_view code, std::string message) {
  if (core_->router) core_->router->RecordRejected(status);
  keep_alive_ = false;
  is_head_ = false;
  Write(JsonError(status, code, message));
}

void Session::Dispatch() {
  http::request<http::string_body> msg = parser_->release();
  HttpRequest req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  Status split = SplitTarget(req.target, &req.path, &req.query);
  if (!split.ok()) return SendError(400, "BAD_REQUEST", split.message());
  for (const auto& field : msg) {
    std::string& slot = req.headers[std::string(field.name_string())];
    slot += (slot.empty() ? "" : ", ") + std::string(field.value());
  }
  req.remote_address = remote_;
  keep_alive_ = msg.keep_alive();
  is_head_ = msg.method() == http::verb::head;
  if (beast::websocket::is_upgrade(msg)) {
    if (const WebSocketAcceptor* acceptor = core_->router->MatchWebSocket(&req)) {
      return Upgrade(std::move(msg), std::move(req), *acceptor);
    }
  }
  req.body = std::move(msg.body());
  state_ = State::kHandling;
  stream_.expires_never();  // the handler may take long; the engine owns deadlines
  auto self = shared_from_this();
  core_->router->Dispatch(
      std::move(req), Responder([self](HttpResponse&& r) { self->PostResponse(std::move(r)); }));
}

void Session::Upgrade(http::request<http::string_body>&& msg, HttpRequest&& req,
                      const WebSocketAcceptor& acceptor) {
  auto ws = std::make_shared<WebSocketSession>(core_, stream_.get_executor());
  auto accepted = [&]() -> Result<WebSocketCallbacks> {
    try {
      return acceptor(req, ws);
    } catch (const std::exception& e) {
      SEGHUB_LOG_ERROR("websocket: acceptor for {} threw: {}", req.route, e.what());
      return Internal("internal error");
    }
  }();
  if (!accepted.ok()) {
    ws->Refuse();
    keep_alive_ = false;  // the client asked to switch protocols; start afresh
    if (core_->router) core_->router->RecordRejected(HttpStatusFor(accepted.status().code()));
    return Write(StatusToResponse(accepted.status()));
  }
  state_ = State::kClosed;  // the socket belongs to the WebSocket from here on
  ws->Run(std::move(stream_), std::move(msg), std::move(accepted).value());
}

void Session::Write(HttpResponse&& r) {
  if (state_ == State::kClosed) return;
  response_ = {};
  response_.version(version_);
  response_.result(static_cast<unsigned>(r.status));
  std::string_view reason = ReasonPhrase(r.status);
  if (reason != "Unknown") response_.reason(beast::string_view(reason.data(), reason.size()));
  response_.set(http::field::server, "seghub");
  response_.set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) {
    // A CR or LF in a header would let one response smuggle another.
    if (name.find_first_of("\r\n:") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      SEGHUB_LOG_WARN("http: dropping response header '{}' with a line break", name);
      continue;
    }
    response_.set(name, value);
  }
  // Set-Cookie is the one header that cannot be folded (RFC 6265 3), hence a line each.
  for (const std::string& cookie : r.set_cookies) {
    if (cookie.find_first_of("\r\n") != std::string::npos) {
      SEGHUB_LOG_WARN("http: dropping a Set-Cookie with a line break");
      continue;
    }
    response_.insert(http::field::set_cookie, cookie);
  }
  bool keep_alive = keep_alive_ && !core_->draining;
  response_.keep_alive(keep_alive);
  response_.body() = std::move(r.body);
  response_.prepare_payload();
  if (is_head_) response_.body().clear();  // Content-Length still describes the GET body
  state_ = State::kWriting;
  stream_.expires_after(core_->options.write_timeout);
  http::async_write(stream_, response_,
                    [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                      self->OnWrite(keep_alive, ec);
                    });
}

void Session::OnWrite(bool keep_alive, beast::error_code ec) {
  if (ec) return Close();
  if (keep_alive) return ReadHeader();
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  state_ = State::kLingering;
  linger_buf_.resize(64 << 10);
  stream_.expires_after(kLingerTime);
  Linger();
}

void Session::Linger() {
  stream_.async_read_some(net::buffer(linger_buf_),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            self->lingered_ += n;
                            if (ec || self->lingered_ > kLingerMaxBytes) return self->Close();
                            self->Linger();
                          });
}

void ListenError(std::string_view what, const tcp::endpoint& ep, const beast::error_code& ec,
                 Status* out) {
  *out = Unavailable("cannot " + std::string(what) + " " + ep.address().to_string() + ":" +
                     std::to_string(ep.port()) + ": " + ec.message());
}

}  // namespace internal

using internal::Core;
using internal::ListenError;
using internal::Session;
using internal::WebSocketSession;
namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, const Router* router)
      : core_(std::make_shared<Core>(std::move(options), router)),
        acceptor_(net::make_strand(core_->ioc)),
        work_(net::make_work_guard(core_->ioc)) {}

  Status Listen();
  void Run();
  void StopAccepting();
  void Stop();
  uint16_t port() const { return port_; }
  const std::string& host() const { return core_->options.host; }

 private:
  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  std::vector<std::shared_ptr<Session>> LiveSessions();
  std::vector<std::shared_ptr<WebSocketSession>> LiveWebSockets();
  // Waits up to shutdown_grace for every connection to end by itself.
  void WaitForConnections();

  std::shared_ptr<Core> core_;
  tcp::acceptor acceptor_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  net::steady_timer retry_timer_{acceptor_.get_executor()};
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::once_flag stop_once_;
};

Status HttpServer::Impl::Listen() {
  beast::error_code ec;
  tcp::resolver resolver(core_->ioc);
  auto results = resolver.resolve(core_->options.host, std::to_string(core_->options.port),
                                  tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return Unavailable("cannot resolve host '" + core_->options.host + "': " + ec.message());
  }
  tcp::endpoint ep = results.begin()->endpoint();
  Status status;
  if (acceptor_.open(ep.protocol(), ec)) ListenError("open", ep, ec, &status);
  if (status.ok() && acceptor_.set_option(net::socket_base::reuse_address(true), ec)) {
    ListenError("configure", ep, ec, &status);
  }
  if (status.ok() && acceptor_.bind(ep, ec)) ListenError("bind", ep, ec, &status);
  if (status.ok() && acceptor_.listen(net::socket_base::max_listen_connections, ec)) {
    ListenError("listen on", ep, ec, &status);
  }
  if (!status.ok()) return status;
  port_ = acceptor_.local_endpoint(ec).port();
  return Status::Ok();
}

void HttpServer::Impl::Run() {
  net::dispatch(acceptor_.get_executor(), [this] { Accept(); });
  for (int i = 0; i < core_->options.io_threads; ++i) {
    threads_.emplace_back([core = core_] {
      // Handlers do not throw (the router catches), but a stray exception must not end the
      // process: log it and keep serving.
      while (true) {
        try {
          core->ioc.run();
          return;
        } catch (const std::exception& e) {
          SEGHUB_LOG_ERROR("http: io thread caught: {}", e.what());
        }
      }
    });
  }
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(
      net::make_strand(core_->ioc),
      [this](beast::error_code ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (core_->draining || ec == net::error::operation_aborted) return;
  if (ec) {
    // Typically EMFILE; retrying at once would spin.
    SEGHUB_LOG_WARN("http: accept failed: {}", ec.message());
    retry_timer_.expires_after(std::chrono::milliseconds(50));
    retry_timer_.async_wait([this](beast::error_code) {
      if (!core_->draining) Accept();
    });
    return;
  }
  auto session = std::make_shared<Session>(core_, std::move(socket));
  net::dispatch(session->executor(), [session] { session->Start(); });
  Accept();
}

std::vector<std::shared_ptr<Session>> HttpServer::Impl::LiveSessions() {
  std::vector<std::shared_ptr<Session>> out;
  std::lock_guard<std::mutex> lock(core_->mu);
  for (auto& [ptr, weak] : core_->sessions) {
    if (auto s = weak.lock()) out.push_back(std::move(s));
  }
  return out;
}

void HttpServer::Impl::StopAccepting() {
  if (core_->draining.exchange(true)) return;
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
    retry_timer_.cancel();
  });
  for (auto& s : LiveSessions()) net::post(s->executor(), [s] { s->CloseIfIdle(); });
}

std::vector<std::shared_ptr<WebSocketSession>> HttpServer::Impl::LiveWebSockets() {
  std::vector<std::shared_ptr<WebSocketSession>> out;
  std::lock_guard<std::mutex> lock(core_->mu);
  for (auto& [ptr, weak] : core_->websockets) {
    if (auto s = weak.lock()) out.push_back(std::move(s));
  }
  return out;
}

void HttpServer::Impl::WaitForConnections() {
  auto deadline = std::chrono::steady_clock::now() + core_->options.shutdown_grace;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      if (core_->sessions.empty() && core_->websockets.empty()) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void HttpServer::Impl::Stop() {
  std::call_once(stop_once_, [this] {
    StopAccepting();
    // WebSockets never finish by themselves: ask the peers to close (1001, going away).
    for (auto& ws : LiveWebSockets()) ws->GoingAway();
    WaitForConnections();
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      core_->stopped = true;
    }
    for (auto& s : LiveSessions()) net::post(s->executor(), [s] { s->Close(); });
    for (auto& ws : LiveWebSockets()) ws->Abort();
    work_.reset();
    for (auto& t : threads_) t.join();
    // Run what was posted before `stopped` was set, so no handler (and the Session it holds)
    // stays queued in the io_context forever.
    core_->ioc.restart();
    core_->ioc.poll();
  });
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                      const Router* router) {
  if (router == nullptr) return InvalidArgument("HttpServer needs a router");
  if (options.io_threads < 1) return InvalidArgument("io_threads must be at least 1");
  if (options.max_body_bytes < 0) return InvalidArgument("max_body_bytes must not be negative");
  auto impl = std::make_shared<Impl>(std::move(options), router);
  SEGHUB_RETURN_IF_ERROR(impl->Listen());
  impl->Run();
  return std::make_unique<HttpServer>(std::move(impl));
}

HttpServer::HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(); }
uint16_t HttpServer::port() const { return impl_->port(); }
const std::string& HttpServer::host() const { return impl_->host(); }
void HttpServer::StopAccepting() { impl_->StopAccepting(); }
void HttpServer::Stop() { impl_->Stop(); }

}  // namespace seghub::api
