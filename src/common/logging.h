// Logging: spdlog behind one init call so the level and format are set in one place.
#ifndef SEGHUB_COMMON_LOGGING_H_
#define SEGHUB_COMMON_LOGGING_H_

#include <spdlog/spdlog.h>

#include <string_view>

namespace seghub {

// Routes the default logger to stderr (first call only) and sets the global level ("trace",
// "debug", "info", "warn", "error", "off") and pattern. Call from main before starting threads;
// later calls only change the level and pattern.
void InitLogging(std::string_view level);

}  // namespace seghub

#define SEGHUB_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define SEGHUB_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define SEGHUB_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define SEGHUB_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)

#endif  // SEGHUB_COMMON_LOGGING_H_
