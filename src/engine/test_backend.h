// A deterministic backend with no framework behind it, for scheduler tests that must run in
// milliseconds, and for serving smoke tests.
//
// model.json: "backend": "test", "architecture": "identity" (output = input) or "affine"
// (output = input * arch_params.scale + arch_params.offset). Other arch_params:
//   weight_bytes   bytes the "weights" claim from the memory budget (default 1 MiB)
//   sample_bytes   what MeasureSampleBytes reports for the reference shape (default 4x input)
//   delay_us       sleep per batch; per_sample_us: extra sleep per sample (simulated compute)
//   oom_above      batches larger than this fail with kResourceExhausted (exercises halving)
//   gate           name of a TestGate every Run() passes through first (see below)
//
// TestGate is the hook that makes batching deterministic: while a gate is closed, workers block
// inside Run(), so a test can fill the queue and then let batches through one at a time.
#ifndef SEGHUB_ENGINE_TEST_BACKEND_H_
#define SEGHUB_ENGINE_TEST_BACKEND_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "engine/backend.h"

namespace seghub::engine {

std::unique_ptr<Backend> MakeTestBackend();

// A named, process-wide gate. Thread-safe.
class TestGate {
 public:
  // The gate called `name`, created open on first use. Never destroyed.
  static TestGate& Get(const std::string& name);

  void Close();
  void Open();
  // Lets exactly n more Run() calls through while closed.
  void Allow(int n);
  // Blocks until `n` Run() calls are waiting at the gate (or the timeout); returns whether they
  // are.
  bool WaitForWaiters(int n, std::chrono::milliseconds timeout);
  // Called by the backend.
  void Pass();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;  // guarded by mu_
  int permits_ = 0;   // guarded by mu_
  int waiting_ = 0;   // guarded by mu_
};

}  // namespace seghub::engine

#endif  // SEGHUB_ENGINE_TEST_BACKEND_H_
