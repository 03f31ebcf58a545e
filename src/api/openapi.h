// OpenApiBuilder: collects route descriptions while routes are registered and builds the
// OpenAPI 3 document served at /api/openapi.json. Registering through it means a route cannot be
// added without its documentation. Not thread-safe while adding; Build() may run concurrently
// once registration is over.
#ifndef SEGHUB_API_OPENAPI_H_
#define SEGHUB_API_OPENAPI_H_

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace seghub::api {

struct RouteDoc {
  std::string summary = {};
  std::string tag = {};
  std::string body = {};                // "", "json" or "multipart"
  std::vector<std::string> query = {};  // query parameter names
  std::string produces = "application/json";
  bool auth = true;
};

class OpenApiBuilder {
 public:
  void Add(std::string method, std::string pattern, RouteDoc doc);
  // {openapi: 3.0.3, info, paths, components.securitySchemes}.
  nlohmann::json Build(const std::string& version) const;
  bool Has(const std::string& method, const std::string& pattern) const;

 private:
  struct Entry {
    std::string method;
    std::string pattern;
    RouteDoc doc;
  };
  std::vector<Entry> entries_;
};

}  // namespace seghub::api

#endif  // SEGHUB_API_OPENAPI_H_
