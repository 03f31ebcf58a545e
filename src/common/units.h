// Parsing of human-friendly sizes ("512MiB", "2G", "1048576") used by configuration.
#ifndef SEGHUB_COMMON_UNITS_H_
#define SEGHUB_COMMON_UNITS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace seghub {

// Accepts an integer with an optional suffix K, M, G, T (powers of 1024), optionally followed by
// "i", "B" or "iB" ("64MiB", "2G", "1.5GB"). Returns kInvalidArgument on anything else.
Result<int64_t> ParseBytes(std::string_view text);

// "1.50 GiB"
std::string FormatBytes(int64_t bytes);

}  // namespace seghub

#endif  // SEGHUB_COMMON_UNITS_H_
