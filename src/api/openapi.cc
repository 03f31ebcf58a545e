#include "api/openapi.h"

#include <algorithm>
#include <cctype>

namespace seghub::api {
namespace {

std::vector<std::string> PathParams(const std::string& pattern) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = pattern.find('{', pos)) != std::string::npos) {
    size_t end = pattern.find('}', pos);
    if (end == std::string::npos) break;
    out.push_back(pattern.substr(pos + 1, end - pos - 1));
    pos = end + 1;
  }
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

nlohmann::json Operation(const RouteDoc& doc, const std::string& pattern) {
  nlohmann::json op = {{"summary", doc.summary}, {"tags", {doc.tag}}};
  nlohmann::json params = nlohmann::json::array();
  for (const std::string& p : PathParams(pattern)) {
    params.push_back(
        {{"name", p}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
  }
  for (const std::string& q : doc.query) {
    params.push_back(
        {{"name", q}, {"in", "query"}, {"required", false}, {"schema", {{"type", "string"}}}});
  }
  if (!params.empty()) op["parameters"] = params;
  if (doc.body == "json") {
    op["requestBody"] = {{"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
  } else if (doc.body == "multipart") {
    nlohmann::json file = {{"type", "string"}, {"format", "binary"}};
    nlohmann::json files = {{"type", "array"}, {"items", file}};
    nlohmann::json schema = {{"type", "object"}, {"properties", {{"files", files}}}};
    op["requestBody"] = {{"content", {{"multipart/form-data", {{"schema", schema}}}}}};
  }
  op["responses"] = {
      {"200",
       {{"description", "success"}, {"content", {{doc.produces, nlohmann::json::object()}}}}},
      {"4XX", {{"description", "client error {error, code, detail}"}}}};
  if (doc.auth) {
    op["security"] = nlohmann::json::array(
        {{{"bearer", nlohmann::json::array()}}, {{"cookie", nlohmann::json::array()}}});
    op["responses"]["401"] = {{"description", "missing, tampered or expired token"}};
  }
  return op;
}

}  // namespace

void OpenApiBuilder::Add(std::string method, std::string pattern, RouteDoc doc) {
  entries_.push_back({std::move(method), std::move(pattern), std::move(doc)});
}

bool OpenApiBuilder::Has(const std::string& method, const std::string& pattern) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const Entry& e) { return e.method == method && e.pattern == pattern; });
}

nlohmann::json OpenApiBuilder::Build(const std::string& version) const {
  nlohmann::json paths = nlohmann::json::object();
  for (const Entry& e : entries_) paths[e.pattern][Lower(e.method)] = Operation(e.doc, e.pattern);
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "seghub Hub service"},
            {"version", version},
            {"description",
             "Projects, images, jobs, users, sharing and exports. See "
             "docs/hub-service.md."}}},
          {"paths", paths},
          {"components",
           {{"securitySchemes",
             {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
              {"cookie", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "seghub_access"}}}}}}}};
}

}  // namespace seghub::api
