// A minimal Office Open XML spreadsheet (.xlsx) writer: one worksheet per XlsxSheet with a bold,
// frozen header row and numbers or inline strings below (no shared strings table, so the
// writer streams nothing and needs no second pass). Enough for LibreOffice, Excel, pandas and
// openpyxl to read; no formulas, dates or formatting beyond the header.
// Pure function; thread-safe: any thread may call it.
#ifndef SEGHUB_HUB_XLSX_WRITER_H_
#define SEGHUB_HUB_XLSX_WRITER_H_

#include <string>
#include <variant>
#include <vector>

#include "common/status.h"

namespace seghub::hub {

// Empty, a number (non-finite numbers are written as empty cells: Excel has no NaN) or text.
using XlsxCell = std::variant<std::monostate, double, std::string>;

struct XlsxSheet {
  std::string name;  // 1..31 characters, none of []:*?/\, not starting or ending with '
  std::vector<std::string> header;
  std::vector<std::vector<XlsxCell>> rows;
};

inline constexpr size_t kXlsxMaxRows = 1'048'576;  // header included
inline constexpr size_t kXlsxMaxColumns = 16'384;
inline constexpr size_t kXlsxMaxCellChars = 32'767;  // longer text is truncated

// The .xlsx file's bytes. Text is XML-escaped; invalid UTF-8 and XML-forbidden control
// characters become U+FFFD. Errors: kInvalidArgument for no sheets, a bad or duplicate
// (case-insensitive) sheet name, or a sheet over Excel's row/column limits; kInternal (libzip).
Result<std::string> WriteXlsx(const std::vector<XlsxSheet>& sheets);

// "A", "B", ..., "Z", "AA", ... for a 0-based column index.
std::string XlsxColumnName(size_t index);

}  // namespace seghub::hub

#endif  // SEGHUB_HUB_XLSX_WRITER_H_
