#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>
#include <string>

namespace seghub {

void InitLogging(std::string_view level) {
  // Logs go to stderr so that commands printing JSON on stdout (segment --json, pd analyze)
  // stay machine-readable. Only the first call replaces the default logger.
  static std::once_flag once;
  std::call_once(once, [] { spdlog::set_default_logger(spdlog::stderr_color_mt("seghub")); });
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %v");
}

}  // namespace seghub
