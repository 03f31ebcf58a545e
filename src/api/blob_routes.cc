#include "api/blob_routes.h"

#include <memory>
#include <string>

#include "api/http_status.h"

namespace seghub::api {
namespace {

void ServeBlob(const storage::BlobStore* blobs, const std::string& key,
               const Responder& responder) {
  Result<std::string> bytes = blobs->Get(key);
  if (!bytes.ok()) {
    responder.SendStatus(bytes.status());
    return;
  }
  HttpResponse response;
  response.status = 200;
  response.content_type = "application/octet-stream";
  // Content-addressed: the bytes under a key never change, but the URL is a credential, so no
  // shared cache may keep it.
  response.headers["Cache-Control"] = "private, no-store";
  response.headers["ETag"] = "\"" + key + "\"";
  response.body = std::move(bytes).value();
  responder.Send(std::move(response));
}

}  // namespace

Status RegisterBlobRoutes(Router* router, const storage::BlobStore* blobs,
                          const hub::BlobUrlSigner* signer, pipeline::TaskPool* pool) {
  auto handler = [blobs, signer, pool](HttpRequest&& request, Responder responder) {
    std::string key = request.Param("key");
    if (!storage::IsValidBlobKey(key)) {
      responder.SendStatus(InvalidArgument("malformed blob key"));
      return;
    }
    // The HMAC costs microseconds, so it runs here; only the disk read goes to the pool.
    Status verified = signer->VerifyNow(key, request.Query("expires").value_or(""),
                                        request.Query("sig").value_or(""));
    if (!verified.ok()) {
      responder.SendStatus(verified);
      return;
    }
    Status posted =
        pool->Post([blobs, key = std::move(key), responder] { ServeBlob(blobs, key, responder); });
    if (!posted.ok()) responder.SendStatus(posted);
  };
  return router->Add("GET", std::string(hub::kBlobUrlPrefix) + "{key}", std::move(handler));
}

}  // namespace seghub::api
