#include "tools/build_info.h"

#ifndef SEGHUB_VERSION_STRING
#error "SEGHUB_VERSION_STRING must be defined by CMake"
#endif

namespace seghub::tools {

std::string_view Version() { return SEGHUB_VERSION_STRING; }
std::string_view BuildType() { return SEGHUB_BUILD_TYPE; }

bool TorchBackendCompiledIn() {
#if defined(SEGHUB_WITH_TORCH) && SEGHUB_WITH_TORCH
  return true;
#else
  return false;
#endif
}

}  // namespace seghub::tools
