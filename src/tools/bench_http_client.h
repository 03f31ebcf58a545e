// A minimal synchronous HTTP/1.1 client on Boost.Beast for `seghub bench-segment`: one keep-alive
// connection per object, multipart POSTs of one image, as the Hub's back end sends them. It is a
// load generator, not a general client: no TLS, no redirects, no chunked uploads.
//
// One connection per object; not thread-safe (each benchmark client thread owns one).
#ifndef SEGHUB_TOOLS_BENCH_HTTP_CLIENT_H_
#define SEGHUB_TOOLS_BENCH_HTTP_CLIENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/status.h"

namespace seghub::tools {

struct BenchHttpReply {
  int status = 0;
  std::string body;
};

// A multipart/form-data body with one file part and plain fields; `content_type` carries the
// boundary. Built once and reused for every request, so the client side costs almost nothing.
struct MultipartBody {
  std::string content_type;
  std::string body;
};
MultipartBody MakeMultipartBody(const std::string& file_field, const std::string& filename,
                                const std::string& file_bytes,
                                const std::map<std::string, std::string>& fields);

class BenchHttpClient {
 public:
  // Connects to host:port. kUnavailable when the connection fails.
  static Result<std::unique_ptr<BenchHttpClient>> Connect(const std::string& host, uint16_t port);
  ~BenchHttpClient();
  BenchHttpClient(const BenchHttpClient&) = delete;
  BenchHttpClient& operator=(const BenchHttpClient&) = delete;

  // POSTs `body` to `target` and reads the whole response. Reconnects once when the server had
  // closed the idle connection. kUnavailable on I/O errors.
  Result<BenchHttpReply> Post(const std::string& target, const MultipartBody& body);

 private:
  struct Impl;
  explicit BenchHttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_BENCH_HTTP_CLIENT_H_
