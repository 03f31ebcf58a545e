#include "api/static_files.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>
#include <utility>

#include "api/http_status.h"

namespace seghub::api {
namespace {

namespace fs = std::filesystem;

// Paths the SPA fallback never covers: an API client must get a real 404, not HTML.
constexpr std::array<std::string_view, 4> kNoFallbackPrefixes = {"/api", "/v2", "/health",
                                                                 "/metrics"};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool IsUnder(const fs::path& root, const fs::path& p) {
  auto [r, q] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return r == root.end();
}

// The relative path for `rest` ("a/b.js"), or a 400 for "." / ".." / odd bytes. An empty segment
// list means the directory itself.
Result<fs::path> RelativePath(std::string_view rest, bool* dot_file) {
  fs::path rel;
  *dot_file = false;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
    if (seg.empty()) continue;
    if (seg == "." || seg == ".." ||
        seg.find_first_of(std::string_view("\\\0", 2)) != std::string_view::npos) {
      return InvalidArgument("invalid path segment '" + std::string(seg) + "'");
    }
    if (seg.front() == '.') *dot_file = true;
    rel /= std::string(seg);
  }
  return rel;
}

// The canonical file for `rel` under `root`, or nullopt (missing, outside root, not a file).
std::optional<fs::path> FindFile(const fs::path& root, const fs::path& rel) {
  std::error_code ec;
  fs::path p = fs::canonical(root / rel, ec);
  if (ec || !IsUnder(root, p)) return std::nullopt;
  if (fs::is_directory(p, ec)) p /= "index.html";
  if (!fs::is_regular_file(p, ec) || ec) return std::nullopt;
  return p;
}

bool WantsFallback(const HttpRequest& request, const fs::path& rel) {
  for (std::string_view prefix : kNoFallbackPrefixes) {
    if (std::string_view(request.path).substr(0, prefix.size()) == prefix) return false;
  }
  return !rel.has_filename() || !rel.filename().has_extension();
}

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    size_t comma = if_none_match.find(',');
    std::string_view tag = if_none_match.substr(0, comma);
    if_none_match.remove_prefix(comma == std::string_view::npos ? if_none_match.size() : comma + 1);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);  // weak comparison (RFC 9110 13.1.2)
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

HttpResponse ServeFile(const fs::path& file, const HttpRequest& request) {
  std::error_code ec;
  uintmax_t size = fs::file_size(file, ec);
  auto mtime = fs::last_write_time(file, ec);
  if (ec) return StatusToResponse(Internal("cannot stat a static file"));
  std::ostringstream etag;
  etag << '"' << std::hex << size << '-' << mtime.time_since_epoch().count() << '"';
  HttpResponse res;
  res.content_type = ContentTypeForExtension(file.extension().string());
  res.headers["ETag"] = etag.str();
  res.headers["Cache-Control"] =
      file.filename() == "index.html" ? "no-cache" : "public, max-age=3600";
  res.headers["X-Content-Type-Options"] = "nosniff";
  if (EtagMatches(request.Header("If-None-Match"), etag.str())) {
    res.status = 304;
    return res;
  }
  std::ifstream in(file, std::ios::binary);
  std::string body(static_cast<size_t>(size), '\0');
  if (!in.read(body.data(), static_cast<std::streamsize>(body.size()))) {
    return StatusToResponse(Internal("cannot read a static file"));
  }
  res.body = std::move(body);
  return res;
}

}  // namespace

std::string ContentTypeForExtension(std::string_view extension) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".wasm", "application/wasm"},
      {".txt", "text/plain; charset=utf-8"},
  };
  std::string ext = Lower(extension);
  for (const auto& [e, type] : kTypes) {
    if (e == ext) return std::string(type);
  }
  return "application/octet-stream";
}

Result<SyncHandler> StaticFileHandler(const fs::path& root, std::string param) {
  std::error_code ec;
  fs::path canonical_root = fs::canonical(root, ec);
  if (ec || !fs::is_directory(canonical_root, ec)) {
    return NotFound("static file root '" + root.string() + "' is not a directory");
  }
  return SyncHandler([root = std::move(canonical_root),
                      param = std::move(param)](const HttpRequest& request) -> HttpResponse {
    bool dot_file = false;
    Result<fs::path> rel = RelativePath(request.Param(param), &dot_file);
    if (!rel.ok()) return StatusToResponse(rel.status());
    std::optional<fs::path> file = dot_file ? std::nullopt : FindFile(root, *rel);
    if (!file && !dot_file && WantsFallback(request, *rel)) file = FindFile(root, "index.html");
    if (!file) return JsonError(404, "NOT_FOUND", "no file for " + request.path);
    return ServeFile(*file, request);
  });
}

Status AddStaticFiles(Router* router, const fs::path& root, std::string_view url_prefix) {
  if (router == nullptr || url_prefix.empty() || url_prefix.front() != '/') {
    return InvalidArgument("static files need a router and a prefix starting with '/'");
  }
  std::string pattern(url_prefix);
  if (pattern.back() != '/') pattern += '/';
  pattern += "{*path}";
  SEGHUB_ASSIGN_OR_RETURN(SyncHandler handler, StaticFileHandler(root, "path"));
  return router->AddSync("GET", pattern, std::move(handler));
}

}  // namespace seghub::api
