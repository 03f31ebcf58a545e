#include "api/responder.h"

#include <atomic>

#include "api/http_status.h"
#include "common/logging.h"

namespace seghub::api {

struct Responder::State {
  explicit State(SendFn fn) : send(std::move(fn)) {}
  ~State() {
    if (sent.exchange(true)) return;
    SEGHUB_LOG_ERROR("http: handler dropped a request without responding; sending 500");
    try {
      send(JsonError(500, "INTERNAL", "the request handler did not produce a response"));
    } catch (const std::exception& e) {
      SEGHUB_LOG_ERROR("http: sending the fallback 500 failed: {}", e.what());
    }
  }

  SendFn send;
  std::atomic<bool> sent{false};
};

Responder::Responder(SendFn send) : state_(std::make_shared<State>(std::move(send))) {}

void Responder::Send(HttpResponse response) const {
  if (state_->sent.exchange(true)) {
    SEGHUB_LOG_WARN("http: second response to one request ignored (status {})", response.status);
    return;
  }
  state_->send(std::move(response));
}

void Responder::SendStatus(const Status& status) const { Send(StatusToResponse(status)); }

bool Responder::sent() const { return state_->sent.load(); }

}  // namespace seghub::api
