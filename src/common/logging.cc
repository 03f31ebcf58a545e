#include "common/logging.h"

#include <string>

namespace seghub {

void InitLogging(std::string_view level) {
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %v");
}

}  // namespace seghub
