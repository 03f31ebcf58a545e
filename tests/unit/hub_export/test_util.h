// Helpers for the export tests: reading a zip's entries with libzip and a small XML
// well-formedness check (tags balance, attributes are quoted, entities are known).
#ifndef SEGHUB_TESTS_UNIT_HUB_EXPORT_TEST_UTIL_H_
#define SEGHUB_TESTS_UNIT_HUB_EXPORT_TEST_UTIL_H_

#include <zip.h>

#include <cctype>
#include <map>
#include <string>
#include <vector>

namespace seghub::hub::testing {

// Entry name -> bytes; empty map when the bytes are not a readable zip.
inline std::map<std::string, std::string> ReadZip(const std::string& bytes) {
  std::map<std::string, std::string> out;
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  zip_t* za = src ? zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &error) : nullptr;
  if (za == nullptr) {
    if (src) zip_source_free(src);
    zip_error_fini(&error);
    return out;
  }
  for (zip_int64_t i = 0; i < zip_get_num_entries(za, 0); ++i) {
    zip_stat_t st;
    zip_stat_index(za, static_cast<zip_uint64_t>(i), 0, &st);
    std::string data(st.size, '\0');
    zip_file_t* f = zip_fopen_index(za, static_cast<zip_uint64_t>(i), 0);
    if (f == nullptr) continue;
    const zip_int64_t n = data.empty() ? 0 : zip_fread(f, data.data(), data.size());
    zip_fclose(f);
    if (n == static_cast<zip_int64_t>(data.size())) out[st.name] = std::move(data);
  }
  zip_discard(za);
  return out;
}

// "" when `xml` is well-formed (for the subset the writers produce), else what is wrong.
inline std::string XmlProblem(const std::string& xml) {
  std::vector<std::string> open;
  size_t i = 0;
  if (xml.rfind("<?xml", 0) == 0) i = xml.find("?>") + 2;
  bool root_seen = false;
  while (i < xml.size()) {
    if (xml[i] == '&') {
      const size_t end = xml.find(';', i);
      if (end == std::string::npos) return "unterminated entity";
      const std::string e = xml.substr(i + 1, end - i - 1);
      if (e != "amp" && e != "lt" && e != "gt" && e != "quot" && e != "apos" && e[0] != '#') {
        return "unknown entity " + e;
      }
      i = end + 1;
      continue;
    }
    if (xml[i] != '<') {
      if (open.empty() && !std::isspace(static_cast<unsigned char>(xml[i]))) {
        return "text outside the root";
      }
      ++i;
      continue;
    }
    const size_t end = xml.find('>', i);
    if (end == std::string::npos) return "unterminated tag";
    std::string tag = xml.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.empty()) return "empty tag";
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1)) return "mismatched </" + tag.substr(1);
      open.pop_back();
      continue;
    }
    const bool self_closing = tag.back() == '/';
    if (self_closing) tag.pop_back();
    const std::string name = tag.substr(0, tag.find_first_of(" \t\n"));
    // Attributes: name="value" pairs; quotes must balance and values hold no '<'.
    size_t quotes = 0;
    for (char c : tag) quotes += c == '"';
    if (quotes % 2 != 0 || tag.find('<') != std::string::npos) return "bad attributes in " + name;
    if (open.empty() && root_seen) return "second root element " + name;
    root_seen = true;
    if (!self_closing) open.push_back(name);
  }
  return open.empty() ? (root_seen ? "" : "no root element") : "unclosed <" + open.back();
}

}  // namespace seghub::hub::testing

#endif  // SEGHUB_TESTS_UNIT_HUB_EXPORT_TEST_UTIL_H_
