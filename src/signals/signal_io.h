// Reading 1-D signals from user files: NumPy .npy, CSV and raw little-endian float32.
//
// Every parser takes the whole file content (files are bounded by ReadLimits::max_bytes, so
// reading them at once is fine) and returns one std::vector<double> per signal. Input comes from
// users, so nothing here aborts: malformed, truncated or oversized data gives a Status
// (kInvalidArgument for bad content, kPayloadTooLarge for limit violations, kNotFound for a
// missing file) whose message says what is wrong and where.
//
// Values must be finite: a NaN or infinity would spread through the IIR filter to the whole
// signal, so it is rejected at the boundary with its position.
#ifndef SEGHUB_SIGNALS_SIGNAL_IO_H_
#define SEGHUB_SIGNALS_SIGNAL_IO_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace seghub::signals {

using Signals = std::vector<std::vector<double>>;

struct ReadLimits {
  size_t max_bytes = size_t{512} << 20;         // file / buffer size
  size_t max_total_samples = size_t{64} << 20;  // summed over all signals
};

// How a CSV table maps to signals.
enum class CsvLayout {
  kRows,     // each line is one signal; lines may differ in length
  kColumns,  // each column is one signal; every line must have the same number of cells
};

struct CsvOptions {
  CsvLayout layout = CsvLayout::kRows;
  char delimiter = ',';
};

// .npy versions 1.0, 2.0 and 3.0; dtype float32 or float64 ('<', '>', '=' byte orders); C or
// Fortran order. Shape (n,) is one signal, (rows, n) is `rows` signals.
Result<Signals> ParseNpy(std::string_view bytes, const ReadLimits& limits = {});

// CSV of numbers. Cells are trimmed of spaces/tabs; blank lines are skipped; CRLF is accepted.
// Header: the FIRST non-blank line is skipped when none of its cells parses as a number (e.g.
// "ch1,ch2"); a line that mixes numbers and text is an error, as is any non-numeric or empty
// cell later on (the message gives 1-based line and column).
Result<Signals> ParseCsv(std::string_view text, const CsvOptions& options = {},
                         const ReadLimits& limits = {});

// Raw little-endian float32 samples without a header: exactly one signal.
Result<Signals> ParseRawFloat32(std::string_view bytes, const ReadLimits& limits = {});

enum class SignalFormat {
  kAuto,  // .npy magic, else by extension: .csv/.txt -> CSV, .bin/.raw/.f32 -> raw float32
  kNpy,
  kCsv,
  kRawFloat32,
};

// Reads `path` (size checked against limits.max_bytes before reading) and parses it.
Result<Signals> ReadSignalFile(const std::string& path, SignalFormat format = SignalFormat::kAuto,
                               const CsvOptions& csv = {}, const ReadLimits& limits = {});

}  // namespace seghub::signals

#endif  // SEGHUB_SIGNALS_SIGNAL_IO_H_
