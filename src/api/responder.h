// Responder: how a handler answers a request, now or later, from any thread.
//
// The server creates one Responder per request; the handler may copy it (into an engine callback,
// say) and call Send() exactly once from any thread. The server's send function posts the reply
// onto the connection's strand, so the calling thread never touches the socket. Further Send()
// calls are ignored. If every copy is destroyed without a Send(), a 500 is sent instead, so a
// buggy handler cannot leave a client waiting forever.
#ifndef SEGHUB_API_RESPONDER_H_
#define SEGHUB_API_RESPONDER_H_

#include <functional>
#include <memory>

#include "api/http_message.h"
#include "common/status.h"

namespace seghub::api {

class Responder {
 public:
  using SendFn = std::function<void(HttpResponse&&)>;

  // `send` is called at most once, on whichever thread calls Send() (or destroys the last copy).
  explicit Responder(SendFn send);

  // Thread-safe; the first call wins.
  void Send(HttpResponse response) const;
  void operator()(HttpResponse response) const { Send(std::move(response)); }
  // An error response via StatusToResponse (the Status -> HTTP mapping).
  void SendStatus(const Status& status) const;
  bool sent() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace seghub::api

#endif  // SEGHUB_API_RESPONDER_H_
