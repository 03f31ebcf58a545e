// What this binary was built as; values come from CMake. Any thread.
#ifndef SEGHUB_TOOLS_BUILD_INFO_H_
#define SEGHUB_TOOLS_BUILD_INFO_H_

#include <string_view>

namespace seghub::tools {

std::string_view Version();    // SEGHUB_VERSION, e.g. "0.1.0"
std::string_view BuildType();  // CMAKE_BUILD_TYPE
bool TorchBackendCompiledIn();

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_BUILD_INFO_H_
