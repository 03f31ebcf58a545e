#include "hub/http_blob_source.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "storage/blob_store.h"

namespace seghub::hub {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr uint32_t kMaxHeaderBytes = 64 << 10;

// "http://host[:port][/]" -> {host, port}; IPv6 literals in brackets.
Result<HttpBlobSource::Endpoint> ParseBaseUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgument("blob source URL must start with http://: '" + std::string(url) + "'");
  }
  std::string_view rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos) {
    return InvalidArgument("blob source URL must be http://host[:port]: '" + std::string(url) +
                           "'");
  }
  HttpBlobSource::Endpoint ep;
  size_t host_end = rest.size();
  if (rest.front() == '[') {
    host_end = rest.find(']');
    if (host_end == std::string_view::npos)
      return InvalidArgument("bad IPv6 host in " + std::string(url));
    ep.host = std::string(rest.substr(1, host_end - 1));
    ++host_end;
  } else {
    host_end = std::min(rest.find(':'), rest.size());
    ep.host = std::string(rest.substr(0, host_end));
  }
  std::string_view port = rest.substr(host_end);
  if (port.empty()) {
    ep.port = "80";
  } else if (port.size() >= 2 && port.size() <= 6 && port.front() == ':' &&
             std::all_of(port.begin() + 1, port.end(),
                         [](char c) { return c >= '0' && c <= '9'; })) {
    ep.port = std::string(port.substr(1));
  } else {
    return InvalidArgument("bad port in blob source URL '" + std::string(url) + "'");
  }
  if (ep.host.empty())
    return InvalidArgument("no host in blob source URL '" + std::string(url) + "'");
  return ep;
}

// Runs the io_context until the pending operation completes. The operations carry their own
// timeouts (tcp_stream expiry), so this always returns.
void RunOne(asio::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

// The answer of one server as the failover rules read it (see the header).
Result<std::string> ReadAnswer(http::response<http::string_body>&& res, std::string_view key,
                               const std::string& where) {
  const int code = static_cast<int>(res.result_int());
  if (code == 200) {
    if (storage::Sha256Hex(res.body()) != key) {
      return Internal("blob " + std::string(key) + " from " + where +
                      " is corrupt: its SHA-256 differs from the key");
    }
    return std::move(res.body());
  }
  const std::string what =
      "blob " + std::string(key) + " from " + where + ": HTTP " + std::to_string(code);
  if (code == 404) return NotFound(what);
  if (code == 401 || code == 403) {
    return Unauthenticated(what + " (does the worker's blob secret match the API's?)");
  }
  if (code == 400) return InvalidArgument(what);
  return Unavailable(what);  // 429, 5xx, anything unexpected: another server may do better
}

// Codes after which trying another server cannot help.
bool IsFinal(StatusCode code) {
  return code == StatusCode::kNotFound || code == StatusCode::kUnauthenticated ||
         code == StatusCode::kPayloadTooLarge || code == StatusCode::kInvalidArgument;
}

}  // namespace

Result<std::unique_ptr<HttpBlobSource>> HttpBlobSource::Create(
    std::vector<std::string> api_base_urls, const BlobUrlSigner* signer,
    HttpBlobSourceOptions options) {
  if (api_base_urls.empty()) return InvalidArgument("no API URL for the blob source");
  if (signer == nullptr) return InvalidArgument("the blob source needs a signer");
  if (options.max_bytes <= 0) return InvalidArgument("blob source max_bytes must be positive");
  std::vector<Endpoint> endpoints;
  for (const std::string& url : api_base_urls) {
    SEGHUB_ASSIGN_OR_RETURN(Endpoint ep, ParseBaseUrl(url));
    endpoints.push_back(std::move(ep));
  }
  return std::unique_ptr<HttpBlobSource>(new HttpBlobSource(std::move(endpoints), signer, options));
}

HttpBlobSource::HttpBlobSource(std::vector<Endpoint> endpoints, const BlobUrlSigner* signer,
                               HttpBlobSourceOptions options)
    : endpoints_(std::move(endpoints)), signer_(signer), options_(options) {}

Result<std::string> HttpBlobSource::Get(std::string_view key) const {
  if (!storage::IsValidBlobKey(key)) return InvalidArgument("malformed blob key");
  const size_t n = endpoints_.size();
  const size_t first = next_.fetch_add(1, std::memory_order_relaxed) % n;
  bool corrupt = false;
  std::string errors;
  for (size_t i = 0; i < n; ++i) {
    Result<std::string> r = Fetch(endpoints_[(first + i) % n], key);
    if (r.ok() || IsFinal(r.status().code())) return r;
    corrupt = corrupt || r.status().code() == StatusCode::kInternal;
    errors += (errors.empty() ? "" : "; ") + r.status().message();
  }
  if (corrupt) return Internal(errors);
  return Unavailable("no API server delivered blob " + std::string(key) + ": " + errors);
}

Result<std::string> HttpBlobSource::Fetch(const Endpoint& ep, std::string_view key) const {
  const SteadyClock::time_point deadline = SteadyClock::now() + options_.total_timeout;
  const std::string where = ep.host + ":" + ep.port;
  asio::io_context ioc;
  beast::error_code ec;

  // Resolve and connect under the connect timeout. The resolver has no expiry of its own, so
  // run it for at most that long and cancel it if it is still pending.
  tcp::resolver resolver(ioc);
  tcp::resolver::results_type addresses;
  bool resolved = false;
  resolver.async_resolve(ep.host, ep.port, [&](beast::error_code e, tcp::resolver::results_type r) {
    ec = e;
    addresses = std::move(r);
    resolved = true;
  });
  ioc.run_for(options_.connect_timeout);
  if (!resolved) {
    resolver.cancel();
    RunOne(ioc);
    return Unavailable("resolving " + where + " timed out");
  }
  if (ec) return Unavailable("cannot resolve " + where + ": " + ec.message());

  beast::tcp_stream stream(ioc);
  stream.expires_after(options_.connect_timeout);
  stream.async_connect(addresses, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  RunOne(ioc);
  if (ec) return Unavailable("cannot connect to " + where + ": " + ec.message());

  http::request<http::empty_body> req{http::verb::get, signer_->SignedPath(key, options_.url_ttl),
                                      11};
  req.set(http::field::host, where);
  req.set(http::field::user_agent, "seghub-worker");
  req.set(http::field::connection, "close");
  stream.expires_at(deadline);
  http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
  RunOne(ioc);
  if (ec) return Unavailable("sending to " + where + " failed: " + ec.message());

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(static_cast<uint64_t>(options_.max_bytes));
  auto too_large = [&] {
    return PayloadTooLarge("blob " + std::string(key) + " from " + where + " exceeds " +
                           std::to_string(options_.max_bytes) + " bytes");
  };
  // The size is checked here as well as by body_limit: with GCC 12 at -O2, Boost 1.74's parser
  // was seen ignoring body_limit, and a too-large Content-Length must fail before any body byte.
  http::async_read_header(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
  RunOne(ioc);
  if (!ec && parser.content_length().value_or(0) > static_cast<uint64_t>(options_.max_bytes)) {
    return too_large();
  }
  if (!ec) {
    http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
    RunOne(ioc);
  }
  if (ec == http::error::body_limit) return too_large();
  if (ec) return Unavailable("reading from " + where + " failed: " + ec.message());
  if (parser.get().body().size() > static_cast<size_t>(options_.max_bytes)) return too_large();
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);  // best effort; the answer is in
  return ReadAnswer(parser.release(), key, where);
}

}  // namespace seghub::hub
