#include "engine/torch/blas_status.h"

#include <dlfcn.h>

#include <filesystem>
#include <fstream>

namespace seghub::engine {
namespace {

std::string RealPath(const std::string& path) {
  std::error_code ec;
  auto real = std::filesystem::canonical(path, ec);
  return ec ? path : real.string();
}

}  // namespace

std::string ClassifyBlasPath(const std::string& path) {
  const std::string file = std::filesystem::path(path).filename().string();
  if (path.find("openblas") != std::string::npos) return "openblas";
  if (path.find("mkl") != std::string::npos) return "mkl";
  if (path.find("blis") != std::string::npos) return "blis";
  if (path.find("atlas") != std::string::npos) return "atlas";
  // Debian's alternatives put the netlib reference at .../blas/libblas.so.3.
  if (file.rfind("libblas.so", 0) == 0 || file.rfind("librefblas", 0) == 0) return "reference";
  return "unknown";
}

BlasInfo BlasStatus() {
  BlasInfo info;
  // LibTorch links libblas.so.3 directly (so it is bound at start-up); whichever library the
  // dynamic linker resolved sgemm_ to is what GEMM calls use.
  if (void* sym = dlsym(RTLD_DEFAULT, "sgemm_")) {
    Dl_info dl{};
    if (dladdr(sym, &dl) != 0 && dl.dli_fname != nullptr) {
      info.path = RealPath(dl.dli_fname);
      info.library = ClassifyBlasPath(info.path);
      info.is_reference = info.library == "reference";
      return info;
    }
  }
  std::ifstream maps("/proc/self/maps");
  std::string line;
  info.library = "none";
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const std::string kind = ClassifyBlasPath(path);
    if (kind != "unknown") {
      info.path = path;
      info.library = kind;
      info.is_reference = kind == "reference";
      if (kind != "reference") break;  // an optimised library wins over the reference one
    }
  }
  return info;
}

}  // namespace seghub::engine
