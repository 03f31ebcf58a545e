#include "tools/engine_setup.h"

#include "common/logging.h"
#include "engine/test_backend.h"
#if defined(SEGHUB_WITH_TORCH) && SEGHUB_WITH_TORCH
#include "engine/torch/torch_backend.h"
#endif

namespace seghub::tools {

void RegisterBackends(engine::BackendRegistry* backends, bool log_blas) {
  backends->Register(engine::MakeTestBackend());
#if defined(SEGHUB_WITH_TORCH) && SEGHUB_WITH_TORCH
  backends->Register(engine::MakeTorchBackend());
  if (!log_blas) return;
  // With Debian's reference BLAS every LibTorch model runs 2-2.7x slower
  // (../shared/reference/cpu-inference-notes.md): say so loudly.
  const engine::BlasInfo blas = engine::BlasStatus();
  if (blas.is_reference || blas.library == "unknown" || blas.library == "none") {
    SEGHUB_LOG_WARN(
        "BLAS in use is {} ({}): not an optimised one; install libopenblas0-openmp "
        "(scripts/bootstrap.sh does) for 2x faster inference",
        blas.library, blas.path);
  } else {
    SEGHUB_LOG_INFO("BLAS: {} ({})", blas.library, blas.path);
  }
#endif
}

Result<std::unique_ptr<LocalEngine>> StartLocalEngine(const LocalEngineOptions& options) {
  auto local = std::make_unique<LocalEngine>();
  RegisterBackends(&local->backends, options.log_blas);
  engine::EngineOptions eo;
  eo.model_dir = options.models_dir;
  eo.memory_budget_bytes = options.memory_budget_bytes;
  eo.cpu_threads = options.threads;
  eo.warmup = options.warmup;
  eo.load_all = options.load_all;
  SEGHUB_ASSIGN_OR_RETURN(local->engine,
                          engine::Engine::Create(eo, &local->backends, &local->registry));
  local->engine->Start();
  return local;
}

}  // namespace seghub::tools
