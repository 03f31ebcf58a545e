// The LibTorch backend ("torch"). Torch-free header: callers need no LibTorch include.
//
// Formats: "seghub" builds the network in C++ (models::BuildNetwork) and loads safetensors
// weights (or initialises randomly when the config names none); "torchscript" loads a
// torch.jit.save / Module::save file. At load the module is put in eval mode, cast to the
// precision, moved to CUDA when available, frozen and optimised for inference on CPU.
//
// Instances share one module (and so one copy of the weights) and call forward concurrently
// without a lock; each sets the intra-op thread count of its own worker thread (see
// SetThreadIntraOpThreads) and on CUDA runs on its own stream.
#ifndef SEGHUB_ENGINE_TORCH_TORCH_BACKEND_H_
#define SEGHUB_ENGINE_TORCH_TORCH_BACKEND_H_

#include <memory>

#include "engine/backend.h"
#include "engine/torch/blas_status.h"
#include "engine/torch/tracking_allocator.h"

namespace seghub::engine {

struct TorchBackendOptions {
  // This CPU has no BF16 instructions: bf16 on CPU is emulated and slow, so it needs opting in.
  bool allow_cpu_bf16 = false;
  // torch::jit::freeze + optimize_for_inference at load (CPU only): measured ~10 % faster for
  // the U-Net on this CPU and batch-invariant to 1e-5 (the unfrozen path is not). Caveat: LibTorch
  // 1.13 segfaults when an op throws inside a frozen module once a second frozen module exists in
  // the process, so inputs are validated before forward (NetworkSpec::check_input).
  bool freeze = true;
};

std::unique_ptr<Backend> MakeTorchBackend(TorchBackendOptions options = {});

// Intra-op parallelism is per calling thread with LibTorch's OpenMP backend (omp_set_num_threads
// sets the calling thread's ICV; at::set_num_threads would also change the process default).
// Sets `threads` for forwards issued from the calling thread.
void SetThreadIntraOpThreads(int threads);
// Intra-op threads a forward issued from the calling thread would use.
int ThreadIntraOpThreads();

}  // namespace seghub::engine

#endif  // SEGHUB_ENGINE_TORCH_TORCH_BACKEND_H_
