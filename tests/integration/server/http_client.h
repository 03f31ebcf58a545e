// A blocking HTTP/1.1 test client on plain POSIX sockets, deliberately independent of the
// server's Beast code so a parsing bug on one side is not mirrored on the other. It can also
// send arbitrary bytes, for malformed-request tests. Responses must be Content-Length framed
// (or end at EOF); chunked encoding is not supported.
//
// One connection per object; not thread-safe. Every read waits at most the connection timeout.
#ifndef SEGHUB_TESTS_INTEGRATION_SERVER_HTTP_CLIENT_H_
#define SEGHUB_TESTS_INTEGRATION_SERVER_HTTP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/http_message.h"
#include "common/status.h"

namespace seghub::testing {

struct HttpReply {
  int status = 0;
  api::HeaderMap headers;
  std::string body;

  std::string Header(std::string_view name) const;
  // The body as JSON; a discarded value (is_discarded()) when it is not JSON.
  nlohmann::json Json() const;
};

class HttpConnection {
 public:
  static Result<std::unique_ptr<HttpConnection>> Connect(
      const std::string& host, uint16_t port,
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  explicit HttpConnection(int fd, std::chrono::milliseconds timeout);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Writes raw bytes (no SIGPIPE: a closed peer is an error Status).
  Status Write(std::string_view bytes);
  // Reads one response. `head_request`: the response has no body whatever Content-Length says.
  Result<HttpReply> ReadReply(bool head_request = false);
  // Writes a request (Host and Content-Length added) and reads the reply.
  Result<HttpReply> Request(const std::string& method, const std::string& target,
                            const std::string& body = "",
                            const std::map<std::string, std::string>& headers = {});
  // True when the server closes the connection within `timeout` (reads until EOF).
  bool WaitClosed(std::chrono::milliseconds timeout);

 private:
  // Appends what arrives within the timeout; kDeadlineExceeded, or kUnavailable at EOF.
  Status ReadMore(std::chrono::milliseconds timeout);

  int fd_;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
};

// One request on a fresh connection.
Result<HttpReply> Fetch(const std::string& host, uint16_t port, const std::string& method,
                        const std::string& target, const std::string& body = "",
                        const std::map<std::string, std::string>& headers = {});

}  // namespace seghub::testing

#endif  // SEGHUB_TESTS_INTEGRATION_SERVER_HTTP_CLIENT_H_
