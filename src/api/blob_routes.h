// GET /internal/blobs/{key}?expires=<unix s>&sig=<hex>: the API's blob store, read by workers
// on other machines (hub::HttpBlobSource) through URLs signed with the shared blob secret
// (hub::BlobUrlSigner). No user session: the signature is the authorisation, and it names one
// content-addressed blob for a limited time.
//
// Answers: 200 application/octet-stream with the blob's bytes; 400 for a malformed key; 401 for
// a missing, wrong or expired signature; 404 for an unknown key; 429 when the pool is full. The
// io thread only checks the key and the HMAC; the file read runs on `pool`.
//
// Ownership: every pointer is borrowed and must outlive the router's server.
#ifndef SEGHUB_API_BLOB_ROUTES_H_
#define SEGHUB_API_BLOB_ROUTES_H_

#include "api/router.h"
#include "common/status.h"
#include "hub/blob_urls.h"
#include "pipeline/task_pool.h"
#include "storage/blob_store.h"

namespace seghub::api {

// Registers the route on `router`; call before the server starts (the router's rule). All
// arguments are required. kInvalidArgument when the route is already registered.
Status RegisterBlobRoutes(Router* router, const storage::BlobStore* blobs,
                          const hub::BlobUrlSigner* signer, pipeline::TaskPool* pool);

}  // namespace seghub::api

#endif  // SEGHUB_API_BLOB_ROUTES_H_
