#include "tools/bench_http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <limits>

namespace seghub::tools {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

MultipartBody MakeMultipartBody(const std::string& file_field, const std::string& filename,
                                const std::string& file_bytes,
                                const std::map<std::string, std::string>& fields) {
  // A fixed boundary is fine: the benchmark image is ours and PNG/JPEG bytes containing this
  // exact 40-character line are vanishingly unlikely.
  const std::string boundary = "seghub-bench-3f9a1c7e5b2d4a6f8e0c1b3d5f7a";
  MultipartBody m;
  m.content_type = "multipart/form-data; boundary=" + boundary;
  for (const auto& [name, value] : fields) {
    m.body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name +
              "\"\r\n\r\n" + value + "\r\n";
  }
  m.body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + file_field +
            "\"; filename=\"" + filename + "\"\r\nContent-Type: application/octet-stream\r\n\r\n";
  m.body += file_bytes;
  m.body += "\r\n--" + boundary + "--\r\n";
  return m;
}

struct BenchHttpClient::Impl {
  std::string host;
  uint16_t port = 0;
  asio::io_context io;
  tcp::socket socket{io};
  beast::flat_buffer buffer;

  beast::error_code Open() {
    beast::error_code ec;
    socket.close(ec);
    buffer.clear();
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return ec;
    asio::connect(socket, endpoints, ec);
    if (!ec) socket.set_option(tcp::no_delay(true), ec);
    return ec;
  }

  beast::error_code RoundTrip(const http::request<http::string_body>& req,
                              http::response<http::string_body>* res) {
    beast::error_code ec;
    http::write(socket, req, ec);
    if (ec) return ec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    http::read(socket, buffer, parser, ec);
    if (!ec) *res = parser.release();
    return ec;
  }
};

BenchHttpClient::BenchHttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

BenchHttpClient::~BenchHttpClient() {
  beast::error_code ec;
  impl_->socket.shutdown(tcp::socket::shutdown_both, ec);
  impl_->socket.close(ec);
}

Result<std::unique_ptr<BenchHttpClient>> BenchHttpClient::Connect(const std::string& host,
                                                                  uint16_t port) {
  auto impl = std::make_unique<Impl>();
  impl->host = host;
  impl->port = port;
  if (beast::error_code ec = impl->Open()) {
    return Unavailable("connect to " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  return std::unique_ptr<BenchHttpClient>(new BenchHttpClient(std::move(impl)));
}

Result<BenchHttpReply> BenchHttpClient::Post(const std::string& target, const MultipartBody& body) {
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, impl_->host);
  req.set(http::field::content_type, body.content_type);
  req.keep_alive(true);
  req.body() = body.body;
  req.prepare_payload();
  http::response<http::string_body> res;
  beast::error_code ec = impl_->RoundTrip(req, &res);
  if (ec) {
    // The server may have closed an idle keep-alive connection: one fresh attempt.
    if (beast::error_code reopen = impl_->Open()) {
      return Unavailable("reconnect: " + reopen.message());
    }
    ec = impl_->RoundTrip(req, &res);
    if (ec) return Unavailable("POST " + target + ": " + ec.message());
  }
  BenchHttpReply reply;
  reply.status = static_cast<int>(res.result_int());
  reply.body = std::move(res.body());
  if (!res.keep_alive()) (void)impl_->Open();
  return reply;
}

}  // namespace seghub::tools
