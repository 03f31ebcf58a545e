#include "signals/signal_io.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

namespace seghub::signals {
namespace {

constexpr std::string_view kNpyMagic = "\x93NUMPY";

std::string Num(size_t v) { return std::to_string(v); }

Status TooLarge(std::string what, size_t value, size_t limit) {
  return PayloadTooLarge(what + " " + Num(value) + " exceeds the limit of " + Num(limit));
}

Status CheckFinite(const Signals& signals) {
  for (size_t s = 0; s < signals.size(); ++s) {
    for (size_t i = 0; i < signals[s].size(); ++i) {
      if (!std::isfinite(signals[s][i])) {
        return InvalidArgument("non-finite value (NaN or infinity) in signal " + Num(s) +
                               " at sample " + Num(i));
      }
    }
  }
  return Status::Ok();
}

uint32_t ReadLe(std::string_view bytes, size_t pos, size_t width) {
  uint32_t v = 0;
  for (size_t i = 0; i < width; ++i) v |= uint32_t{static_cast<uint8_t>(bytes[pos + i])} << (8 * i);
  return v;
}

// Position just after "'key':" in a .npy header dict, or nullopt.
std::optional<size_t> FindKey(std::string_view header, std::string_view key) {
  for (char quote : {'\'', '"'}) {
    const std::string quoted = std::string(1, quote) + std::string(key) + quote;
    size_t pos = header.find(quoted);
    if (pos == std::string_view::npos) continue;
    pos = header.find_first_not_of(" \t", pos + quoted.size());
    if (pos == std::string_view::npos || header[pos] != ':') return std::nullopt;
    pos = header.find_first_not_of(" \t", pos + 1);
    if (pos == std::string_view::npos) return std::nullopt;
    return pos;
  }
  return std::nullopt;
}

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<size_t> shape;
};

Result<NpyHeader> ParseNpyHeader(std::string_view header) {
  NpyHeader h;
  const auto descr_pos = FindKey(header, "descr");
  const auto fortran_pos = FindKey(header, "fortran_order");
  const auto shape_pos = FindKey(header, "shape");
  if (!descr_pos || !fortran_pos || !shape_pos) {
    return InvalidArgument("npy header lacks one of 'descr', 'fortran_order', 'shape'");
  }
  const char q = header[*descr_pos];
  const size_t descr_end = header.find(q, *descr_pos + 1);
  if ((q != '\'' && q != '"') || descr_end == std::string_view::npos) {
    return InvalidArgument(
        "npy 'descr' is not a simple dtype string (structured arrays are not "
        "supported)");
  }
  h.descr = std::string(header.substr(*descr_pos + 1, descr_end - *descr_pos - 1));
  if (header.substr(*fortran_pos, 4) == "True") {
    h.fortran_order = true;
  } else if (header.substr(*fortran_pos, 5) != "False") {
    return InvalidArgument("npy 'fortran_order' must be True or False");
  }
  size_t pos = *shape_pos;
  const size_t close = header.find(')', pos);
  if (header[pos] != '(' || close == std::string_view::npos) {
    return InvalidArgument("npy 'shape' is not a tuple");
  }
  for (++pos; pos < close;) {
    pos = header.find_first_not_of(" \t,", pos);
    if (pos >= close) break;
    size_t dim = 0;
    const auto [end, ec] = std::from_chars(header.data() + pos, header.data() + close, dim);
    if (ec != std::errc()) return InvalidArgument("npy 'shape' has a non-integer dimension");
    h.shape.push_back(dim);
    pos = static_cast<size_t>(end - header.data());
  }
  return h;
}

// Maps (descr) to element size and whether bytes need swapping on this host.
Result<std::pair<size_t, bool>> NpyElementType(const std::string& descr) {
  if (descr.size() != 3 || descr[1] != 'f' || (descr[2] != '4' && descr[2] != '8')) {
    return InvalidArgument("unsupported npy dtype '" + descr + "'; expected float32 or float64");
  }
  const bool host_little = std::endian::native == std::endian::little;
  bool file_little;
  if (descr[0] == '<') {
    file_little = true;
  } else if (descr[0] == '>') {
    file_little = false;
  } else if (descr[0] == '=') {
    file_little = host_little;
  } else {
    return InvalidArgument("unsupported npy byte order in dtype '" + descr + "'");
  }
  return std::make_pair(static_cast<size_t>(descr[2] - '0'), file_little != host_little);
}

double DecodeFloat(const char* p, size_t width, bool swap) {
  char buf[8];
  std::memcpy(buf, p, width);
  if (swap) std::reverse(buf, buf + width);
  if (width == 4) {
    float f;
    std::memcpy(&f, buf, 4);
    return f;
  }
  double d;
  std::memcpy(&d, buf, 8);
  return d;
}

std::string_view Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::optional<double> ParseNumber(std::string_view cell) {
  if (!cell.empty() && cell[0] == '+') cell.remove_prefix(1);
  if (cell.empty()) return std::nullopt;
  double v = 0.0;
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
  if (ec != std::errc() || end != cell.data() + cell.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> SplitCells(std::string_view line, char delimiter) {
  std::vector<std::string_view> cells;
  size_t start = 0;
  while (true) {
    const size_t end = line.find(delimiter, start);
    cells.push_back(Trim(line.substr(start, end - start)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return cells;
}

// Parses the cells of one CSV line; `header_allowed` lets an all-text line be skipped (nullopt).
Result<std::optional<std::vector<double>>> ParseCsvLine(std::string_view line, size_t line_no,
                                                        char delimiter, bool header_allowed) {
  const std::vector<std::string_view> cells = SplitCells(line, delimiter);
  std::vector<double> values;
  values.reserve(cells.size());
  std::optional<size_t> first_bad;
  for (size_t c = 0; c < cells.size(); ++c) {
    const std::optional<double> v = ParseNumber(cells[c]);
    if (v) {
      values.push_back(*v);
    } else if (!first_bad) {
      first_bad = c;
    }
  }
  if (!first_bad) return std::optional<std::vector<double>>(std::move(values));
  if (header_allowed && values.empty()) return std::optional<std::vector<double>>();
  const std::string cell(cells[*first_bad].substr(0, 40));
  return InvalidArgument("CSV line " + Num(line_no) + ", column " + Num(*first_bad + 1) + ": " +
                         (cell.empty() ? "empty cell" : "'" + cell + "' is not a number"));
}

Signals Transpose(const std::vector<std::vector<double>>& rows) {
  Signals cols(rows.empty() ? 0 : rows[0].size());
  for (auto& c : cols) c.reserve(rows.size());
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size(); ++c) cols[c].push_back(r[c]);
  }
  return cols;
}

}  // namespace

Result<Signals> ParseNpy(std::string_view bytes, const ReadLimits& limits) {
  if (bytes.size() > limits.max_bytes) return TooLarge("npy size", bytes.size(), limits.max_bytes);
  if (bytes.size() < 10 || bytes.substr(0, 6) != kNpyMagic) {
    return InvalidArgument("not an npy file (missing \\x93NUMPY magic)");
  }
  const int major = static_cast<uint8_t>(bytes[6]);
  if (major < 1 || major > 3) return InvalidArgument("unsupported npy version " + Num(major));
  const size_t len_width = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + len_width) return InvalidArgument("truncated npy header");
  const size_t header_len = ReadLe(bytes, 8, len_width);
  const size_t data_start = 8 + len_width + header_len;
  if (bytes.size() < data_start) {
    return InvalidArgument("truncated npy header: declares " + Num(header_len) + " bytes");
  }
  SEGHUB_ASSIGN_OR_RETURN(NpyHeader h, ParseNpyHeader(bytes.substr(8 + len_width, header_len)));
  SEGHUB_ASSIGN_OR_RETURN(auto elem, NpyElementType(h.descr));
  const auto [width, swap] = elem;
  if (h.shape.empty() || h.shape.size() > 2) {
    return InvalidArgument("npy array must be 1-D or 2-D, got " + Num(h.shape.size()) + "-D");
  }
  const size_t rows = h.shape.size() == 2 ? h.shape[0] : 1;
  const size_t cols = h.shape.back();
  if (rows == 0 || cols == 0) return InvalidArgument("npy array is empty");
  if (cols > limits.max_total_samples || rows > limits.max_total_samples / cols) {
    return PayloadTooLarge("npy array of shape (" + Num(rows) + ", " + Num(cols) +
                           ") exceeds the sample limit of " + Num(limits.max_total_samples));
  }
  const size_t data_bytes = rows * cols * width;
  if (bytes.size() - data_start != data_bytes) {
    return InvalidArgument("npy data is " + Num(bytes.size() - data_start) + " bytes, shape and " +
                           "dtype need " + Num(data_bytes) +
                           (bytes.size() - data_start < data_bytes ? " (truncated file)" : ""));
  }
  Signals out(rows, std::vector<double>(cols));
  const char* data = bytes.data() + data_start;
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      const size_t idx = h.fortran_order ? c * rows + r : r * cols + c;
      out[r][c] = DecodeFloat(data + idx * width, width, swap);
    }
  }
  SEGHUB_RETURN_IF_ERROR(CheckFinite(out));
  return out;
}

Result<Signals> ParseCsv(std::string_view text, const CsvOptions& options,
                         const ReadLimits& limits) {
  if (text.size() > limits.max_bytes) return TooLarge("CSV size", text.size(), limits.max_bytes);
  std::vector<std::vector<double>> lines;
  size_t total = 0;
  size_t line_no = 0;
  bool seen_content = false;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = Trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    SEGHUB_ASSIGN_OR_RETURN(auto values,
                            ParseCsvLine(line, line_no, options.delimiter, !seen_content));
    seen_content = true;
    if (!values) continue;  // header
    if (options.layout == CsvLayout::kColumns && !lines.empty() &&
        values->size() != lines[0].size()) {
      return InvalidArgument("CSV line " + Num(line_no) + " has " + Num(values->size()) +
                             " cells, expected " + Num(lines[0].size()) +
                             " (column layout needs a rectangular table)");
    }
    total += values->size();
    if (total > limits.max_total_samples) {
      return TooLarge("CSV sample count", total, limits.max_total_samples);
    }
    lines.push_back(std::move(*values));
  }
  if (lines.empty()) return InvalidArgument("CSV contains no numeric data");
  Signals out = options.layout == CsvLayout::kRows ? std::move(lines) : Transpose(lines);
  SEGHUB_RETURN_IF_ERROR(CheckFinite(out));
  return out;
}

Result<Signals> ParseRawFloat32(std::string_view bytes, const ReadLimits& limits) {
  if (bytes.size() > limits.max_bytes) return TooLarge("raw size", bytes.size(), limits.max_bytes);
  if (bytes.empty()) return InvalidArgument("raw float32 data is empty");
  if (bytes.size() % 4 != 0) {
    return InvalidArgument("raw float32 data is " + Num(bytes.size()) +
                           " bytes, not a multiple of 4 (truncated?)");
  }
  const size_t n = bytes.size() / 4;
  if (n > limits.max_total_samples) return TooLarge("sample count", n, limits.max_total_samples);
  const bool swap = std::endian::native != std::endian::little;
  Signals out(1, std::vector<double>(n));
  for (size_t i = 0; i < n; ++i) out[0][i] = DecodeFloat(bytes.data() + 4 * i, 4, swap);
  SEGHUB_RETURN_IF_ERROR(CheckFinite(out));
  return out;
}

Result<Signals> ReadSignalFile(const std::string& path, SignalFormat format, const CsvOptions& csv,
                               const ReadLimits& limits) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return NotFound("cannot read signal file '" + path + "': " + ec.message());
  if (size > limits.max_bytes) return TooLarge("file size", size, limits.max_bytes);
  std::ifstream in(path, std::ios::binary);
  std::string bytes(size, '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) {
    return NotFound("cannot read signal file '" + path + "'");
  }
  if (format == SignalFormat::kAuto) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (bytes.starts_with(kNpyMagic) || ext == ".npy") {
      format = SignalFormat::kNpy;
    } else if (ext == ".csv" || ext == ".txt") {
      format = SignalFormat::kCsv;
    } else if (ext == ".bin" || ext == ".raw" || ext == ".f32") {
      format = SignalFormat::kRawFloat32;
    } else {
      return InvalidArgument("cannot tell the format of '" + path +
                             "': use .npy, .csv/.txt or .bin/.raw/.f32");
    }
  }
  switch (format) {
    case SignalFormat::kNpy:
      return ParseNpy(bytes, limits);
    case SignalFormat::kCsv:
      return ParseCsv(bytes, csv, limits);
    default:
      return ParseRawFloat32(bytes, limits);
  }
}

}  // namespace seghub::signals
