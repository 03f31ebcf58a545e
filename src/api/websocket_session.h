// Internal to the server: the Beast side of one WebSocket (implements WebSocketConnection).
//
// Threading: everything but Send/Close/closed/GoingAway/Abort runs on the connection's strand,
// the same strand the HTTP Session used, so frames are read and written without locks. At most
// one write (a data frame or the close frame) is in flight; Send() only appends to the queue.
#ifndef SEGHUB_API_WEBSOCKET_SESSION_H_
#define SEGHUB_API_WEBSOCKET_SESSION_H_

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "api/http_server_core.h"
#include "api/websocket.h"

namespace seghub::api::internal {

class WebSocketSession final : public WebSocketConnection,
                               public std::enable_shared_from_this<WebSocketSession> {
 public:
  using UpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

  // `strand` is the connection's strand (the HTTP session's executor).
  WebSocketSession(std::shared_ptr<Core> core, boost::asio::any_io_executor strand);
  ~WebSocketSession() override;

  // On the strand, once, after the acceptor said yes: takes over the socket, answers the upgrade
  // and then reads frames until the connection ends.
  void Run(boost::beast::tcp_stream stream, UpgradeRequest upgrade, WebSocketCallbacks callbacks);
  // On the strand, instead of Run, when the acceptor refused: the connection never opens.
  void Refuse() { closing_ = true; }

  void Send(std::string text) override;  // any thread
  void Close() override;                 // any thread
  bool closed() const override { return closing_.load(); }

  // Any thread; used by HttpServer::Stop. GoingAway sends close 1001 after the queued frames;
  // Abort drops the socket at once (posted even after the server stopped accepting posts).
  void GoingAway();
  void Abort();

 private:
  using Stream = boost::beast::websocket::stream<boost::beast::tcp_stream>;

  // Posts `f` to the strand unless the server has stopped (then the io threads may be gone).
  template <typename F>
  void Post(F&& f);
  void OnHandshake(boost::beast::error_code ec);
  void Read();
  void OnRead(boost::beast::error_code ec);
  void Enqueue(std::string text);
  void WriteNext();
  void OnWrite(boost::beast::error_code ec);
  void StartClose(boost::beast::websocket::close_code code);
  void Finish();

  std::shared_ptr<Core> core_;  // first member: destroyed last, after the socket
  boost::asio::any_io_executor strand_;
  std::optional<Stream> ws_;               // strand only
  UpgradeRequest upgrade_;                 // strand only; kept alive for the handshake
  boost::beast::flat_buffer read_buffer_;  // strand only
  WebSocketCallbacks callbacks_;           // strand only; reset by Finish
  std::deque<std::string> queue_;          // strand only; front() is being written when writing_
  std::atomic<size_t> queued_bytes_{0};    // bytes sent but not yet written, any thread
  std::atomic<bool> closing_{false};       // Send() is ignored from here on
  bool open_ = false;                      // strand only: handshake done
  bool writing_ = false;                   // strand only
  bool finished_ = false;                  // strand only
  std::optional<boost::beast::websocket::close_code> close_code_;  // strand only
  bool close_sent_ = false;                                        // strand only
};

}  // namespace seghub::api::internal

#endif  // SEGHUB_API_WEBSOCKET_SESSION_H_
