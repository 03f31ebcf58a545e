// Engine construction shared by the subcommands that run inference in-process (`serve`,
// `segment`, `pd analyze`, `eval`, `bench`): the backends this build has, and an engine over a
// model repository.
#ifndef SEGHUB_TOOLS_ENGINE_SETUP_H_
#define SEGHUB_TOOLS_ENGINE_SETUP_H_

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "engine/backend.h"
#include "engine/engine.h"
#include "metrics/metrics.h"

namespace seghub::tools {

// Registers the test backend and, in LibTorch builds, the torch backend. With `log_blas`, warns
// when the BLAS in use is not an optimised one. Main thread, before any engine exists.
void RegisterBackends(engine::BackendRegistry* backends, bool log_blas = true);

// Everything an in-process engine needs, owned together; destroy to shut down.
struct LocalEngine {
  metrics::Registry registry;
  engine::BackendRegistry backends;
  std::unique_ptr<engine::Engine> engine;
  ~LocalEngine() {
    if (engine) engine->Shutdown();
  }
};

struct LocalEngineOptions {
  std::string models_dir = "models";
  int64_t memory_budget_bytes = 8LL << 30;
  int threads = 0;
  bool warmup = false;    // one-shot commands skip it
  bool load_all = false;  // load models on first use
  bool log_blas = false;
};

// Creates and starts an engine; models load on first use unless load_all.
Result<std::unique_ptr<LocalEngine>> StartLocalEngine(const LocalEngineOptions& options);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_ENGINE_SETUP_H_
