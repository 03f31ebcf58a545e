// multipart/form-data parsing (RFC 7578) for uploads: the Hub's /api/v1/segment `file`,
// /api/v1/batch-segment `files`, and PD signal uploads.
//
// The whole body is already in memory (the server caps its size), so parts are returned as
// copies of their bytes. Pure functions; thread-safe.
#ifndef SEGHUB_API_MULTIPART_H_
#define SEGHUB_API_MULTIPART_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace seghub::api {

struct MultipartPart {
  std::string name;          // form field name (Content-Disposition name=)
  std::string filename;      // empty for plain fields
  std::string content_type;  // the part's Content-Type, empty when absent
  std::string data;          // raw bytes
};

// Parses `body` using the boundary from `content_type_header`
// ("multipart/form-data; boundary=..."). kInvalidArgument with a message naming the problem:
// not multipart, no boundary, missing closing boundary, a part without Content-Disposition.
Result<std::vector<MultipartPart>> ParseMultipart(std::string_view content_type_header,
                                                  std::string_view body);

// Form fields (parts without a filename) by name; a repeated name keeps the last.
std::map<std::string, std::string> FormFields(const std::vector<MultipartPart>& parts);

// True when the header names multipart/form-data (case-insensitive media type).
bool IsMultipart(std::string_view content_type_header);

}  // namespace seghub::api

#endif  // SEGHUB_API_MULTIPART_H_
