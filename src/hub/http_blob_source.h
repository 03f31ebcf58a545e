// HttpBlobSource: a BlobSource that reads blobs from the API servers' signed blob route
// (GET /internal/blobs/{key}, api/blob_routes.h), for workers that share no filesystem with the
// API. Each Get signs a short-lived URL, fetches it over plain HTTP/1.1 (one connection per
// blob: images are large, so a connect per fetch costs little) and checks that the SHA-256 of
// the body equals the key, so corruption in transit or on a server's disk is detected rather than
// segmented.
//
// Failover: Get starts at the next server in round-robin order and moves on after a connection
// failure, timeout, 5xx or corrupt body. A 404 is final (every API server serves the same blob
// store), as are 401 (the worker's secret differs from the API's: a configuration error) and a
// body over max_bytes.
//
// Errors: kNotFound (404), kUnauthenticated (401/403), kPayloadTooLarge (over max_bytes),
// kInternal (every answer was corrupt: hash mismatch), kUnavailable (no server answered usably),
// kInvalidArgument (malformed key). kUnavailable and kInternal are retryable for the job runner.
//
// Threading: immutable after Create apart from an atomic round-robin counter; any thread may call
// Get concurrently (each call has its own io_context and socket). The signer is borrowed and must
// outlive the source.
#ifndef SEGHUB_HUB_HTTP_BLOB_SOURCE_H_
#define SEGHUB_HUB_HTTP_BLOB_SOURCE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "hub/blob_urls.h"
#include "storage/blob_source.h"

namespace seghub::hub {

struct HttpBlobSourceOptions {
  std::chrono::milliseconds connect_timeout{5'000};  // per server: resolve + TCP connect
  std::chrono::milliseconds total_timeout{60'000};   // per server: connect to last body byte
  int64_t max_bytes = int64_t{20} << 20;             // set to ServeOptions::max_image_bytes
  std::chrono::seconds url_ttl{300};                 // signed URL lifetime (covers clock skew)
};

class HttpBlobSource final : public storage::BlobSource {
 public:
  // `api_base_urls`: at least one "http://host[:port]" (port 80 when absent; a trailing '/' is
  // ignored). kInvalidArgument for an empty list, https or anything else unparseable. Any thread.
  static Result<std::unique_ptr<HttpBlobSource>> Create(std::vector<std::string> api_base_urls,
                                                        const BlobUrlSigner* signer,
                                                        HttpBlobSourceOptions options = {});

  // See the header comment for errors. Blocks up to total_timeout per server tried. Any thread.
  Result<std::string> Get(std::string_view key) const override;

  struct Endpoint {
    std::string host;
    std::string port;
  };

 private:
  HttpBlobSource(std::vector<Endpoint> endpoints, const BlobUrlSigner* signer,
                 HttpBlobSourceOptions options);

  // One attempt against one server: the body, or the status the failover rules act on.
  Result<std::string> Fetch(const Endpoint& endpoint, std::string_view key) const;

  const std::vector<Endpoint> endpoints_;
  const BlobUrlSigner* const signer_;
  const HttpBlobSourceOptions options_;
  mutable std::atomic<uint64_t> next_{0};  // round-robin start; relaxed: only spreads load
};

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_HTTP_BLOB_SOURCE_H_
