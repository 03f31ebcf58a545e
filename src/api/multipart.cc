#include "api/multipart.h"

#include <algorithm>
#include <cctype>

namespace seghub::api {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Value of `key` in a header with ";"-separated parameters (key=value or key="value"). Quoted
// values may contain ';'. Returns false when absent.
bool HeaderParam(std::string_view header, std::string_view key, std::string* value) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t semi = header.find(';', pos);
    if (semi == std::string_view::npos) return false;
    size_t start = semi + 1;
    size_t eq = header.find('=', start);
    if (eq == std::string_view::npos) return false;
    std::string name = Lower(Trim(header.substr(start, eq - start)));
    size_t vstart = eq + 1;
    while (vstart < header.size() && header[vstart] == ' ') ++vstart;
    std::string parsed;
    size_t next = vstart;
    if (vstart < header.size() && header[vstart] == '"') {
      size_t i = vstart + 1;
      for (; i < header.size() && header[i] != '"'; ++i) {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        parsed.push_back(header[i]);
      }
      next = i + 1;
    } else {
      size_t end = header.find(';', vstart);
      if (end == std::string_view::npos) end = header.size();
      parsed = std::string(Trim(header.substr(vstart, end - vstart)));
      next = end;
    }
    if (name == key) {
      *value = parsed;
      return true;
    }
    pos = header.find(';', next) == std::string_view::npos ? header.size() : next;
  }
  return false;
}

// Parses the part headers block (lines separated by CRLF) into `part`.
Status ParsePartHeaders(std::string_view block, MultipartPart* part) {
  bool has_disposition = false;
  size_t pos = 0;
  while (pos < block.size()) {
    size_t eol = block.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = block.size();
    std::string_view line = block.substr(pos, eol - pos);
    pos = eol + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name = Lower(Trim(line.substr(0, colon)));
    std::string_view value = Trim(line.substr(colon + 1));
    if (name == "content-disposition") {
      has_disposition = true;
      HeaderParam(value, "name", &part->name);
      HeaderParam(value, "filename", &part->filename);
    } else if (name == "content-type") {
      part->content_type = std::string(value);
    }
  }
  if (!has_disposition) {
    return InvalidArgument("multipart body: a part has no Content-Disposition header");
  }
  return Status::Ok();
}

}  // namespace

bool IsMultipart(std::string_view content_type_header) {
  return Lower(Trim(content_type_header)).starts_with("multipart/form-data");
}

Result<std::vector<MultipartPart>> ParseMultipart(std::string_view content_type_header,
                                                  std::string_view body) {
  if (!IsMultipart(content_type_header)) {
    return InvalidArgument("expected Content-Type multipart/form-data, got '" +
                           std::string(content_type_header) + "'");
  }
  std::string boundary;
  if (!HeaderParam(content_type_header, "boundary", &boundary) || boundary.empty()) {
    return InvalidArgument("multipart/form-data without a boundary parameter");
  }
  const std::string delimiter = "--" + boundary;
  size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) {
    return InvalidArgument("multipart body does not contain its boundary");
  }
  std::vector<MultipartPart> parts;
  pos += delimiter.size();
  while (true) {
    if (body.substr(pos, 2) == "--") return parts;  // closing delimiter
    if (body.substr(pos, 2) != "\r\n") {
      return InvalidArgument("multipart body: malformed boundary line");
    }
    pos += 2;
    size_t headers_end = body.find("\r\n\r\n", pos);
    // A part with no headers at all starts directly with the blank line.
    if (body.substr(pos, 2) == "\r\n") headers_end = pos - 2;
    if (headers_end == std::string_view::npos) {
      return InvalidArgument("multipart body: truncated part headers");
    }
    MultipartPart part;
    SEGHUB_RETURN_IF_ERROR(ParsePartHeaders(body.substr(pos, headers_end - pos), &part));
    size_t data_start = headers_end + 4;
    size_t next = body.find("\r\n" + delimiter, data_start);
    if (next == std::string_view::npos) {
      return InvalidArgument("multipart body is truncated: the closing boundary is missing");
    }
    part.data = std::string(body.substr(data_start, next - data_start));
    parts.push_back(std::move(part));
    pos = next + 2 + delimiter.size();
  }
}

std::map<std::string, std::string> FormFields(const std::vector<MultipartPart>& parts) {
  std::map<std::string, std::string> fields;
  for (const MultipartPart& part : parts) {
    if (part.filename.empty()) fields[part.name] = part.data;
  }
  return fields;
}

}  // namespace seghub::api
