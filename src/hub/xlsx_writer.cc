#include "hub/xlsx_writer.h"

#include <zip.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <memory>
#include <set>

namespace seghub::hub {
namespace {

constexpr char kXmlDecl[] = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
constexpr char kMainNs[] = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
constexpr char kRelNs[] = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
constexpr char kPkgRelNs[] = "http://schemas.openxmlformats.org/package/2006/relationships";
constexpr char kCtPrefix[] = "application/vnd.openxmlformats-officedocument.spreadsheetml.";

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes the code point at s[*i] and advances *i; 0xFFFD for a malformed sequence (one byte
// consumed), so user-typed names with broken encodings still give a readable workbook.
uint32_t NextCodePoint(const std::string& s, size_t* i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(*i);
  int len = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
  if (len == 0 || *i + len > s.size()) {
    ++*i;
    return 0xFFFD;
  }
  uint32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (int k = 1; k < len; ++k) {
    if ((byte(*i + k) & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (byte(*i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  *i += len;
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0xFFFD;
  return cp;
}

bool XmlAllowed(uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || cp >= 0x10000;
}

// Escaped, valid-UTF-8 XML text of at most `max_chars` characters.
std::string XmlText(const std::string& s, size_t max_chars = kXlsxMaxCellChars) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  for (size_t n = 0; i < s.size() && n < max_chars; ++n) {
    uint32_t cp = NextCodePoint(s, &i);
    if (!XmlAllowed(cp)) cp = 0xFFFD;
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\r':
        out += "&#13;";
        break;  // a raw CR would be normalised away by the parser
      default:
        AppendUtf8(cp, &out);
    }
  }
  return out;
}

void AppendCell(const XlsxCell& cell, const std::string& ref, bool bold, std::string* out) {
  const std::string style = bold ? " s=\"1\"" : "";
  if (const double* v = std::get_if<double>(&cell)) {
    if (!std::isfinite(*v)) return;
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.17g", *v);
    *out += "<c r=\"" + ref + "\"" + style + "><v>" + buf + "</v></c>";
  } else if (const std::string* s = std::get_if<std::string>(&cell)) {
    const bool pad = !s->empty() && (std::isspace(static_cast<unsigned char>(s->front())) ||
                                     std::isspace(static_cast<unsigned char>(s->back())));
    *out += "<c r=\"" + ref + "\"" + style + " t=\"inlineStr\"><is><t" +
            (pad ? " xml:space=\"preserve\"" : "") + ">" + XmlText(*s) + "</t></is></c>";
  }
}

void AppendRow(const std::vector<XlsxCell>& cells, size_t row, bool bold, std::string* out) {
  const std::string r = std::to_string(row);
  *out += "<row r=\"" + r + "\">";
  for (size_t c = 0; c < cells.size(); ++c) AppendCell(cells[c], XlsxColumnName(c) + r, bold, out);
  *out += "</row>";
}

std::string SheetXml(const XlsxSheet& sheet) {
  std::string out = kXmlDecl;
  out += std::string("<worksheet xmlns=\"") + kMainNs + "\">";
  if (!sheet.header.empty()) {  // keep the header visible while scrolling
    out +=
        "<sheetViews><sheetView workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" "
        "activePane=\"bottomLeft\" state=\"frozen\"/></sheetView></sheetViews>";
  }
  out += "<sheetData>";
  size_t row = 1;
  if (!sheet.header.empty()) {
    AppendRow(std::vector<XlsxCell>(sheet.header.begin(), sheet.header.end()), row++, true, &out);
  }
  for (const std::vector<XlsxCell>& cells : sheet.rows) AppendRow(cells, row++, false, &out);
  out += "</sheetData></worksheet>";
  return out;
}

std::string ContentTypesXml(size_t sheets) {
  std::string out = kXmlDecl;
  out +=
      "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
      "<Default Extension=\"rels\" "
      "ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
      "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
      "<Override PartName=\"/xl/workbook.xml\" ContentType=\"" +
      std::string(kCtPrefix) + "sheet.main+xml\"/>";
  out += "<Override PartName=\"/xl/styles.xml\" ContentType=\"" + std::string(kCtPrefix) +
         "styles+xml\"/>";
  for (size_t i = 1; i <= sheets; ++i) {
    out += "<Override PartName=\"/xl/worksheets/sheet" + std::to_string(i) +
           ".xml\" ContentType=\"" + kCtPrefix + "worksheet+xml\"/>";
  }
  return out + "</Types>";
}

std::string RootRelsXml() {
  return std::string(kXmlDecl) + "<Relationships xmlns=\"" + kPkgRelNs +
         "\"><Relationship Id=\"rId1\" Type=\"" + kRelNs +
         "/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>";
}

std::string WorkbookXml(const std::vector<XlsxSheet>& sheets) {
  std::string out = kXmlDecl;
  out += std::string("<workbook xmlns=\"") + kMainNs + "\" xmlns:r=\"" + kRelNs + "\"><sheets>";
  for (size_t i = 1; i <= sheets.size(); ++i) {
    out += "<sheet name=\"" + XmlText(sheets[i - 1].name) + "\" sheetId=\"" + std::to_string(i) +
           "\" r:id=\"rId" + std::to_string(i) + "\"/>";
  }
  return out + "</sheets></workbook>";
}

std::string WorkbookRelsXml(size_t sheets) {
  std::string out = std::string(kXmlDecl) + "<Relationships xmlns=\"" + kPkgRelNs + "\">";
  for (size_t i = 1; i <= sheets; ++i) {
    out += "<Relationship Id=\"rId" + std::to_string(i) + "\" Type=\"" + kRelNs +
           "/worksheet\" Target=\"worksheets/sheet" + std::to_string(i) + ".xml\"/>";
  }
  out += "<Relationship Id=\"rId" + std::to_string(sheets + 1) + "\" Type=\"" + kRelNs +
         "/styles\" Target=\"styles.xml\"/>";
  return out + "</Relationships>";
}

// The smallest stylesheet Excel accepts (two fills are mandatory; openpyxl wants the Normal
// cell style) plus a bold font (s="1").
std::string StylesXml() {
  return std::string(kXmlDecl) + "<styleSheet xmlns=\"" + kMainNs +
         "\"><fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Calibri\"/></font>"
         "<font><b/><sz val=\"11\"/><name val=\"Calibri\"/></font></fonts>"
         "<fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill>"
         "<fill><patternFill patternType=\"gray125\"/></fill></fills>"
         "<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border>"
         "</borders><cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" "
         "borderId=\"0\"/></cellStyleXfs><cellXfs count=\"2\"><xf numFmtId=\"0\" fontId=\"0\" "
         "fillId=\"0\" borderId=\"0\" xfId=\"0\"/><xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" "
         "borderId=\"0\" xfId=\"0\" applyFont=\"1\"/></cellXfs><cellStyles><cellStyle "
         "name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles></styleSheet>";
}

Status ValidateSheets(const std::vector<XlsxSheet>& sheets) {
  if (sheets.empty()) return InvalidArgument("a workbook needs at least one sheet");
  std::set<std::string> names;
  for (const XlsxSheet& s : sheets) {
    std::string lower = s.name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (s.name.empty() || s.name.size() > 31 || s.name.find_first_of("[]:*?/\\") != s.name.npos ||
        s.name.front() == '\'' || s.name.back() == '\'') {
      return InvalidArgument("invalid sheet name '" + s.name + "'");
    }
    if (!names.insert(lower).second)
      return InvalidArgument("duplicate sheet name '" + s.name + "'");
    size_t columns = s.header.size();
    for (const auto& row : s.rows) columns = std::max(columns, row.size());
    if (s.rows.size() + (s.header.empty() ? 0 : 1) > kXlsxMaxRows || columns > kXlsxMaxColumns) {
      return InvalidArgument("sheet '" + s.name + "' exceeds the spreadsheet's size limits");
    }
  }
  return Status::Ok();
}

struct SourceFree {
  void operator()(zip_source_t* s) const { zip_source_free(s); }
};

// Zips (name, content) parts in memory, deflated, with a fixed timestamp.
Result<std::string> ZipParts(const std::vector<std::pair<std::string, std::string>>& parts) {
  zip_error_t error;
  zip_error_init(&error);
  std::unique_ptr<zip_source_t, SourceFree> sink(zip_source_buffer_create(nullptr, 0, 0, &error));
  zip_t* archive = sink ? zip_open_from_source(sink.get(), ZIP_TRUNCATE, &error) : nullptr;
  if (archive == nullptr) {
    const std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    return Internal("libzip: " + text);
  }
  zip_source_keep(sink.get());  // the archive drops its reference at close; we read it after
  for (const auto& [name, content] : parts) {
    zip_source_t* src = zip_source_buffer(archive, content.data(), content.size(), 0);
    const zip_int64_t index = src ? zip_file_add(archive, name.c_str(), src, ZIP_FL_ENC_UTF_8) : -1;
    if (index < 0) {
      if (src) zip_source_free(src);
      const std::string text = zip_strerror(archive);
      zip_discard(archive);
      return Internal("libzip: " + text);
    }
    zip_file_set_mtime(archive, static_cast<zip_uint64_t>(index), 946684800, 0);  // 2000-01-01
  }
  if (zip_close(archive) != 0) {
    const std::string text = zip_strerror(archive);
    zip_discard(archive);
    return Internal("libzip: " + text);
  }
  if (zip_source_open(sink.get()) != 0) return Internal("libzip: cannot reopen the zip buffer");
  zip_source_seek(sink.get(), 0, SEEK_END);
  std::string bytes(static_cast<size_t>(std::max<zip_int64_t>(zip_source_tell(sink.get()), 0)),
                    '\0');
  zip_source_seek(sink.get(), 0, SEEK_SET);
  const zip_int64_t read =
      bytes.empty() ? 0 : zip_source_read(sink.get(), bytes.data(), bytes.size());
  zip_source_close(sink.get());
  if (read != static_cast<zip_int64_t>(bytes.size())) return Internal("libzip: short read");
  return bytes;
}

}  // namespace

std::string XlsxColumnName(size_t index) {
  std::string name;
  for (size_t n = index + 1; n > 0; n = (n - 1) / 26) {
    name.insert(name.begin(), static_cast<char>('A' + (n - 1) % 26));
  }
  return name;
}

Result<std::string> WriteXlsx(const std::vector<XlsxSheet>& sheets) {
  SEGHUB_RETURN_IF_ERROR(ValidateSheets(sheets));
  std::vector<std::pair<std::string, std::string>> parts = {
      {"[Content_Types].xml", ContentTypesXml(sheets.size())},
      {"_rels/.rels", RootRelsXml()},
      {"xl/workbook.xml", WorkbookXml(sheets)},
      {"xl/_rels/workbook.xml.rels", WorkbookRelsXml(sheets.size())},
      {"xl/styles.xml", StylesXml()}};
  for (size_t i = 0; i < sheets.size(); ++i) {
    parts.emplace_back("xl/worksheets/sheet" + std::to_string(i + 1) + ".xml", SheetXml(sheets[i]));
  }
  return ZipParts(parts);
}

}  // namespace seghub::hub
