// Static files (the web UI): GET/HEAD under a URL prefix, from a directory on disk.
//
// - Content-Type by extension (html, js, mjs, css, json, svg, png, jpg/jpeg, ico, woff2, map,
//   wasm, txt; anything else application/octet-stream), plus X-Content-Type-Options: nosniff.
// - Cache-Control: no-cache for index.html (it names the hashed bundles, so it must be
//   revalidated), public, max-age=3600 for everything else.
// - ETag from size and mtime; If-None-Match with a matching tag gets 304 without a body.
// - Confinement: "." and ".." segments (also percent-encoded, the router decodes first) get 400;
//   dot files and anything whose canonical path (symlinks resolved) leaves `root` get 404.
// - SPA fallback: an unknown path whose last segment has no extension and that does not start
//   with /api, /v2, /health or /metrics is answered with index.html, so client-side routes load
//   the app; other unknown paths get the usual JSON 404.
// Files are read from disk per request (no cache), so a rebuilt UI shows up at once.
#ifndef SEGHUB_API_STATIC_FILES_H_
#define SEGHUB_API_STATIC_FILES_H_

#include <filesystem>
#include <string>
#include <string_view>

#include "api/router.h"
#include "common/status.h"

namespace seghub::api {

// Registers GET `url_prefix` + "{*path}" (HEAD follows GET in the Router). Literal and {param}
// routes still win over it. kNotFound when `root` is not a directory, kInvalidArgument for a bad
// prefix or a clash with an existing route. Call before the server starts, like Router::Add.
Status AddStaticFiles(Router* router, const std::filesystem::path& root,
                      std::string_view url_prefix = "/");

// The handler behind AddStaticFiles, for a route whose catch-all parameter is `param`
// ("/ui/{*file}" -> "file"). The handler is thread-safe (it only reads the disk).
Result<SyncHandler> StaticFileHandler(const std::filesystem::path& root,
                                      std::string param = "path");

// "text/css; charset=utf-8" for ".css" (case-insensitive); application/octet-stream if unknown.
std::string ContentTypeForExtension(std::string_view extension);

}  // namespace seghub::api

#endif  // SEGHUB_API_STATIC_FILES_H_
