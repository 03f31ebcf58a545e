#include "engine/torch/tracking_allocator.h"

#include <c10/core/CPUAllocator.h>

#include <atomic>
#include <cstring>
#include <mutex>

namespace seghub::engine {
namespace {

// Each block carries a header with its size so the deleter, a plain function pointer (which
// raw_allocate()/raw_deleter() users require), can account for it. 64 bytes keep the payload
// aligned like c10's own allocations.
constexpr size_t kHeader = 64;

std::atomic<int64_t> g_current{0};
std::atomic<int64_t> g_peak{0};
std::atomic<bool> g_installed{false};
c10::Allocator* g_inner = nullptr;
c10::DeleterFnPtr g_inner_delete = nullptr;

void UpdatePeak(int64_t now) {
  int64_t peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

void TrackedDelete(void* ptr) {
  if (ptr == nullptr) return;
  char* block = static_cast<char*>(ptr) - kHeader;
  size_t n = 0;
  std::memcpy(&n, block, sizeof(n));
  g_current.fetch_sub(static_cast<int64_t>(n), std::memory_order_relaxed);
  g_inner_delete(block);
}

class TrackingAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) const override {
    c10::DataPtr inner = g_inner->allocate(n + kHeader);
    // The inner pointer's deleter is g_inner_delete (checked at install); we take ownership of
    // the block and free it through the same function in TrackedDelete.
    void* block = inner.release_context();
    std::memcpy(block, &n, sizeof(n));
    UpdatePeak(g_current.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed) +
               static_cast<int64_t>(n));
    void* data = static_cast<char*>(block) + kHeader;
    return {data, data, &TrackedDelete, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &TrackedDelete; }
};

}  // namespace

bool InstallTrackingCpuAllocator() {
  static std::once_flag once;
  std::call_once(once, [] {
    c10::Allocator* inner = c10::GetCPUAllocator();
    // Only allocators whose blocks are freed by one plain function can be wrapped this way
    // (c10's default is); probe with a small allocation.
    c10::DataPtr probe = inner->allocate(kHeader);
    if (inner->raw_deleter() == nullptr || probe.get() != probe.get_context() ||
        probe.get_deleter() != inner->raw_deleter()) {
      return;
    }
    g_inner = inner;
    g_inner_delete = inner->raw_deleter();
    static TrackingAllocator allocator;
    // Priority above the default (0) so later lower-priority registrations do not replace it.
    c10::SetCPUAllocator(&allocator, /*priority=*/10);
    g_installed.store(true);
  });
  return g_installed.load();
}

CpuMemoryStats TorchCpuMemoryStats() {
  return {g_installed.load(), g_current.load(), g_peak.load()};
}

void ResetCpuPeakBytes() { g_peak.store(g_current.load()); }

}  // namespace seghub::engine
