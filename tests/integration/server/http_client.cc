#include "http_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace seghub::testing {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Parses "HTTP/1.1 200 OK\r\nA: b\r\n" (without the blank line) into status and headers.
Status ParseHead(std::string_view head, HttpReply* reply) {
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12) {
    return Internal("bad status line: " + std::string(status_line));
  }
  reply->status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  while (eol != std::string_view::npos) {
    head.remove_prefix(eol + 2);
    eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    reply->headers[std::string(line.substr(0, colon))] = std::string(value);
  }
  return Status::Ok();
}

}  // namespace

std::string HttpReply::Header(std::string_view name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

nlohmann::json HttpReply::Json() const { return nlohmann::json::parse(body, nullptr, false); }

Result<std::unique_ptr<HttpConnection>> HttpConnection::Connect(const std::string& host,
                                                                uint16_t port,
                                                                std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found) {
    return Unavailable("cannot resolve " + host);
  }
  int fd = socket(found->ai_family, SOCK_STREAM, 0);
  int rc = fd < 0 ? -1 : connect(fd, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  if (rc != 0) {
    std::string err = Errno("connect to " + host + ":" + std::to_string(port));
    if (fd >= 0) close(fd);
    return Unavailable(err);
  }
  return std::make_unique<HttpConnection>(fd, timeout);
}

HttpConnection::HttpConnection(int fd, std::chrono::milliseconds timeout)
    : fd_(fd), timeout_(timeout) {}

HttpConnection::~HttpConnection() { close(fd_); }

Status HttpConnection::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unavailable(Errno("send"));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status HttpConnection::ReadMore(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  int ready = poll(&p, 1, static_cast<int>(timeout.count()));
  if (ready == 0)
    return DeadlineExceeded("no data within " + std::to_string(timeout.count()) + " ms");
  if (ready < 0) return Internal(Errno("poll"));
  char buf[16384];
  ssize_t n = recv(fd_, buf, sizeof(buf), 0);
  if (n < 0) return Unavailable(Errno("recv"));
  if (n == 0) return Unavailable("connection closed by the server");
  buffer_.append(buf, static_cast<size_t>(n));
  return Status::Ok();
}

Result<HttpReply> HttpConnection::ReadReply(bool head_request) {
  size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    SEGHUB_RETURN_IF_ERROR(ReadMore(timeout_));
  }
  HttpReply reply;
  SEGHUB_RETURN_IF_ERROR(ParseHead(std::string_view(buffer_).substr(0, end), &reply));
  buffer_.erase(0, end + 4);
  if (reply.Header("Transfer-Encoding").find("chunked") != std::string::npos) {
    return Unimplemented("chunked responses are not supported by the test client");
  }
  if (head_request || reply.status == 204 || reply.status == 304 || reply.status / 100 == 1) {
    return reply;
  }
  std::string length = reply.Header("Content-Length");
  if (length.empty()) {  // the body runs to EOF
    while (ReadMore(timeout_).ok()) {
    }
    reply.body = std::move(buffer_);
    buffer_.clear();
    return reply;
  }
  size_t want = std::stoul(length);
  while (buffer_.size() < want) SEGHUB_RETURN_IF_ERROR(ReadMore(timeout_));
  reply.body = buffer_.substr(0, want);
  buffer_.erase(0, want);
  return reply;
}

Result<HttpReply> HttpConnection::Request(const std::string& method, const std::string& target,
                                          const std::string& body,
                                          const std::map<std::string, std::string>& headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: test\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  SEGHUB_RETURN_IF_ERROR(Write(req));
  return ReadReply(method == "HEAD");
}

bool HttpConnection::WaitClosed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    Status s = ReadMore(std::max(left, std::chrono::milliseconds(1)));
    if (s.code() == StatusCode::kUnavailable) return true;
    if (!s.ok()) return false;
  }
  return false;
}

Result<HttpReply> Fetch(const std::string& host, uint16_t port, const std::string& method,
                        const std::string& target, const std::string& body,
                        const std::map<std::string, std::string>& headers) {
  SEGHUB_ASSIGN_OR_RETURN(auto conn, HttpConnection::Connect(host, port));
  auto with_close = headers;
  with_close.emplace("Connection", "close");
  return conn->Request(method, target, body, with_close);
}

}  // namespace seghub::testing
