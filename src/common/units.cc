#include "common/units.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>

namespace seghub {

Result<int64_t> ParseBytes(std::string_view text) {
  std::string s(text);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t pos = 0;
  double number = 0;
  try {
    number = std::stod(s, &pos);
  } catch (const std::exception&) {
    return InvalidArgument("not a size: '" + s + "' (expected e.g. 512MiB, 2G, 1048576)");
  }
  std::string suffix = s.substr(pos);
  while (!suffix.empty() && std::isspace(static_cast<unsigned char>(suffix.front()))) {
    suffix.erase(0, 1);
  }
  for (char& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double mult = 1;
  if (!suffix.empty()) {
    switch (suffix[0]) {
      case 'K':
        mult = 1024.0;
        break;
      case 'M':
        mult = 1024.0 * 1024;
        break;
      case 'G':
        mult = 1024.0 * 1024 * 1024;
        break;
      case 'T':
        mult = 1024.0 * 1024 * 1024 * 1024;
        break;
      case 'B':
        mult = 1;
        break;
      default:
        return InvalidArgument("unknown size suffix in '" + s + "'");
    }
    std::string rest = suffix.substr(suffix[0] == 'B' ? 1 : 1);
    if (!(rest.empty() || rest == "B" || rest == "I" || rest == "IB") ||
        (suffix[0] == 'B' && !rest.empty())) {
      return InvalidArgument("unknown size suffix in '" + s + "'");
    }
  }
  if (number < 0 || !std::isfinite(number)) return InvalidArgument("negative size: '" + s + "'");
  return static_cast<int64_t>(std::llround(number * mult));
}

std::string FormatBytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (std::fabs(v) >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
  return buf;
}

}  // namespace seghub
