// The backend boundary (Triton style): the engine schedules; a backend loads weights and runs
// batches. Backends never see queues, clients or priorities.
//
// Ownership: the engine owns LoadedModel; a LoadedModel owns the shared weights and outlives every
// ModelInstance it created. Threading: Load() and CreateInstance() are called from the engine's
// loader thread; ModelInstance::Run() only from that instance's own worker thread, so an instance
// may keep per-thread state (a CUDA stream, scratch buffers) without locks. Different instances of
// one model run concurrently: there is no model lock.
#ifndef SEGHUB_ENGINE_BACKEND_H_
#define SEGHUB_ENGINE_BACKEND_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/model_config.h"
#include "engine/tensor.h"

namespace seghub::engine {

class ModelInstance {
 public:
  virtual ~ModelInstance() = default;
  // batch: [N, ...sample shape]. Returns [N, ...output shape]. A memory failure must come back as
  // kResourceExhausted (the engine then retries with half the batch), never as an exception.
  virtual Result<Tensor> Run(const Tensor& batch) = 0;
};

class LoadedModel {
 public:
  virtual ~LoadedModel() = default;
  virtual Result<std::unique_ptr<ModelInstance>> CreateInstance(int index) = 0;
  // Bytes held by the weights (shared by all instances).
  virtual int64_t weight_bytes() const = 0;
  // Activation bytes for one sample of `sample_shape`, measured by running it. kUnimplemented if
  // the backend cannot measure; the engine then falls back to the declared figure.
  virtual Result<int64_t> MeasureSampleBytes(const Shape& sample_shape) {
    return Unimplemented("backend cannot measure activation memory");
  }
  // "cpu", "cuda:0", ...
  virtual std::string device() const = 0;
  // Whether real trained weights were loaded (false: initialised randomly).
  virtual bool has_weights() const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  virtual Result<std::unique_ptr<LoadedModel>> Load(const ModelConfig& config) = 0;
};

// Maps ModelConfig::backend to a Backend. Not thread-safe: fill it before creating the engine.
class BackendRegistry {
 public:
  void Register(std::unique_ptr<Backend> backend);
  Backend* Find(std::string_view name) const;

 private:
  std::map<std::string, std::unique_ptr<Backend>, std::less<>> backends_;
};

}  // namespace seghub::engine

#endif  // SEGHUB_ENGINE_BACKEND_H_
