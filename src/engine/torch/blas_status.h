// Which BLAS library the process uses for LibTorch's GEMM fallbacks (transposed convolutions in
// 1.13 go through BLAS). Debian may select the reference BLAS, which is 2-3x slower for the whole
// network; `seghub serve` warns about it. Torch-free.
#ifndef SEGHUB_ENGINE_TORCH_BLAS_STATUS_H_
#define SEGHUB_ENGINE_TORCH_BLAS_STATUS_H_

#include <string>

namespace seghub::engine {

struct BlasInfo {
  std::string library;        // "openblas", "mkl", "blis", "reference", "unknown", "none"
  std::string path;           // resolved file providing sgemm_, or the mapped library found
  bool is_reference = false;  // the slow netlib reference implementation
};

// Resolves the sgemm_ symbol with dladdr (after dlopen-ing nothing new: it looks at what the
// dynamic linker already bound) and falls back to scanning /proc/self/maps.
BlasInfo BlasStatus();

// Classifies a library path ("/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3" ->
// "openblas"). Exposed for tests.
std::string ClassifyBlasPath(const std::string& path);

}  // namespace seghub::engine

#endif  // SEGHUB_ENGINE_TORCH_BLAS_STATUS_H_
