// Small helpers shared by the test servers (postgres_server, redis_server).
#ifndef SEGHUB_TESTS_SUPPORT_PROCESS_UTIL_H_
#define SEGHUB_TESTS_SUPPORT_PROCESS_UTIL_H_

#include <cstddef>
#include <filesystem>
#include <string>

namespace seghub::testing {

// A loopback TCP port that was free a moment ago (0 on failure). Any thread.
int FreeLoopbackPort();

// The last `max_chars` characters of a (log) file, "" when unreadable.
std::string Tail(const std::filesystem::path& file, size_t max_chars = 2000);

}  // namespace seghub::testing

#endif  // SEGHUB_TESTS_SUPPORT_PROCESS_UTIL_H_
