#include "api/websocket_session.h"

#include <boost/asio/post.hpp>
#include <exception>
#include <utility>

#include "common/logging.h"

namespace seghub::api::internal {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;

WebSocketSession::WebSocketSession(std::shared_ptr<Core> core, net::any_io_executor strand)
    : core_(std::move(core)), strand_(std::move(strand)) {}

WebSocketSession::~WebSocketSession() {
  std::lock_guard<std::mutex> lock(core_->mu);
  core_->websockets.erase(this);
}

template <typename F>
void WebSocketSession::Post(F&& f) {
  std::lock_guard<std::mutex> lock(core_->mu);
  if (core_->stopped) return;
  net::post(strand_, std::forward<F>(f));
}

void WebSocketSession::Run(beast::tcp_stream stream, UpgradeRequest upgrade,
                           WebSocketCallbacks callbacks) {
  callbacks_ = std::move(callbacks);
  upgrade_ = std::move(upgrade);
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->websockets[this] = weak_from_this();
  }
  // The WebSocket stream keeps its own timeouts; the TCP stream's would cut idle sockets.
  stream.expires_never();
  ws_.emplace(std::move(stream));
  auto timeout = websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeout.idle_timeout = core_->options.websocket_idle_timeout;
  timeout.keep_alive_pings = true;
  ws_->set_option(timeout);
  ws_->set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "seghub"); }));
  ws_->read_message_max(core_->options.websocket_max_message_bytes);
  ws_->async_accept(upgrade_,
                    [self = shared_from_this()](beast::error_code ec) { self->OnHandshake(ec); });
}

void WebSocketSession::OnHandshake(beast::error_code ec) {
  if (ec) {
    SEGHUB_LOG_DEBUG("websocket: handshake failed: {}", ec.message());
    return Finish();
  }
  open_ = true;
  if (core_->router) core_->router->RecordWebSocket(+1);
  Read();
  WriteNext();  // frames the acceptor sent before the handshake
}

void WebSocketSession::Read() {
  ws_->async_read(read_buffer_,
                  [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

void WebSocketSession::OnRead(beast::error_code ec) {
  if (ec) {
    // closed: the close handshake finished; anything else (reset, timeout, too big) ends it too.
    if (ec != websocket::error::closed) SEGHUB_LOG_DEBUG("websocket: read ended: {}", ec.message());
    return Finish();
  }
  if (!ws_->got_text()) {
    read_buffer_.consume(read_buffer_.size());
    StartClose(websocket::close_code::unknown_data);
    return Read();  // until the peer answers the close frame
  }
  std::string message = beast::buffers_to_string(read_buffer_.data());
  read_buffer_.consume(read_buffer_.size());
  if (callbacks_.on_message && !close_code_) {
    try {
      callbacks_.on_message(std::move(message));
    } catch (const std::exception& e) {
      SEGHUB_LOG_ERROR("websocket: on_message threw: {}", e.what());
      StartClose(websocket::close_code::internal_error);
    }
  }
  if (!finished_) Read();
}

void WebSocketSession::Send(std::string text) {
  if (closing_) return;
  size_t total = queued_bytes_.fetch_add(text.size()) + text.size();
  if (total > core_->options.websocket_max_queued_bytes) {
    // A slow consumer: closing beats buffering without bound (a close frame would queue too).
    SEGHUB_LOG_WARN("websocket: {} bytes queued for a slow consumer; closing", total);
    closing_ = true;
    Post([self = shared_from_this()] { self->Finish(); });
    return;
  }
  Post([self = shared_from_this(), text = std::move(text)]() mutable {
    self->Enqueue(std::move(text));
  });
}

void WebSocketSession::Enqueue(std::string text) {
  if (finished_) return;
  queue_.push_back(std::move(text));
  WriteNext();
}

void WebSocketSession::WriteNext() {
  if (writing_ || finished_ || !open_) return;
  if (queue_.empty()) {
    if (!close_code_ || close_sent_) return;
    close_sent_ = true;
    writing_ = true;
    ws_->async_close(*close_code_, [self = shared_from_this()](beast::error_code ec) {
      self->writing_ = false;
      if (ec) self->Finish();  // otherwise the read loop ends with error::closed
    });
    return;
  }
  writing_ = true;
  ws_->text(true);
  ws_->async_write(
      net::buffer(queue_.front()),
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
}

void WebSocketSession::OnWrite(beast::error_code ec) {
  writing_ = false;
  queued_bytes_ -= queue_.front().size();
  queue_.pop_front();
  if (ec) return Finish();
  WriteNext();
}

void WebSocketSession::Close() {
  closing_ = true;
  Post([self = shared_from_this()] { self->StartClose(websocket::close_code::normal); });
}

void WebSocketSession::GoingAway() {
  closing_ = true;
  Post([self = shared_from_this()] { self->StartClose(websocket::close_code::going_away); });
}

void WebSocketSession::Abort() {
  net::post(strand_, [self = shared_from_this()] { self->Finish(); });
}

void WebSocketSession::StartClose(websocket::close_code code) {
  closing_ = true;
  if (finished_ || close_code_) return;
  if (!ws_) return Finish();  // never ran (refused)
  close_code_ = code;
  WriteNext();  // after the queued frames; during the handshake OnHandshake gets to it
}

void WebSocketSession::Finish() {
  if (finished_) return;
  finished_ = true;
  closing_ = true;
  if (ws_) {
    // Beast's timeout timer would otherwise keep the io_context busy (up to the close timeout).
    ws_->set_option(websocket::stream_base::timeout{websocket::stream_base::none(),
                                                    websocket::stream_base::none(), false});
    beast::error_code ignored;
    beast::get_lowest_layer(*ws_).socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(*ws_).close();  // pending reads and writes complete with an error
  }
  if (open_ && core_->router) core_->router->RecordWebSocket(-1);
  // Moved out first: the callbacks often hold this connection, and that cycle must end here.
  WebSocketCallbacks callbacks = std::move(callbacks_);
  callbacks_ = {};
  if (callbacks.on_close) {
    try {
      callbacks.on_close();
    } catch (const std::exception& e) {
      SEGHUB_LOG_ERROR("websocket: on_close threw: {}", e.what());
    }
  }
}

}  // namespace seghub::api::internal
