// Process-wide accounting of LibTorch CPU tensor memory.
//
// InstallTrackingCpuAllocator() wraps c10's current CPU allocator (c10::SetCPUAllocator) with one
// that counts live and peak bytes in atomics. Every CPU tensor allocated through c10 afterwards is
// counted, whichever thread allocates it; memory that oneDNN or BLAS allocate internally is not.
// Thread-safe; installing more than once is a no-op.
#ifndef SEGHUB_ENGINE_TORCH_TRACKING_ALLOCATOR_H_
#define SEGHUB_ENGINE_TORCH_TRACKING_ALLOCATOR_H_

#include <cstdint>

namespace seghub::engine {

// Returns false if the wrapped allocator cannot be tracked (then nothing is installed).
bool InstallTrackingCpuAllocator();

struct CpuMemoryStats {
  bool tracking = false;  // whether the tracking allocator is installed
  int64_t current_bytes = 0;
  int64_t peak_bytes = 0;  // since install or the last ResetCpuPeakBytes()
};
CpuMemoryStats TorchCpuMemoryStats();
// Sets the peak to the current figure, so a following peak reads "highest since now".
void ResetCpuPeakBytes();

}  // namespace seghub::engine

#endif  // SEGHUB_ENGINE_TORCH_TRACKING_ALLOCATOR_H_
