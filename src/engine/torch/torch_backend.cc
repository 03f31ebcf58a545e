#include "engine/torch/torch_backend.h"

#include <ATen/Parallel.h>
#include <omp.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/script.h>

#include <algorithm>
#include <functional>
#include <new>
#include <optional>
#include <thread>
#include <utility>

#include "common/logging.h"
#include "models/checkpoint.h"
#include "models/network.h"

#ifdef SEGHUB_TORCH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/cuda.h>
#endif

namespace seghub::engine {
namespace {

bool IsOutOfMemory(const std::string& msg) {
  return msg.find("out of memory") != std::string::npos ||
         msg.find("can't allocate memory") != std::string::npos ||
         msg.find("not enough memory") != std::string::npos;
}

// Runs `f` and turns LibTorch exceptions into a Status (memory failures: kResourceExhausted, so
// the engine can retry with a smaller batch). R is Status or Result<T>.
template <typename R, typename F>
R Guarded(const std::string& what, F&& f) {
  std::string msg;
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return ResourceExhausted(what + ": out of memory");
  } catch (const c10::Error& e) {
    msg = e.what_without_backtrace();
  } catch (const std::exception& e) {
    msg = e.what();
  }
  if (IsOutOfMemory(msg)) return ResourceExhausted(what + ": " + msg);
  return Internal(what + ": " + msg);
}

bool CudaAvailable() {
#ifdef SEGHUB_TORCH_CUDA
  return torch::cuda::is_available();
#else
  return false;
#endif
}

Result<at::ScalarType> ChoosePrecision(const std::string& precision, const c10::Device& device,
                                       const TorchBackendOptions& options) {
  if (precision == "fp32") return at::kFloat;
  if (precision == "fp16") {
    if (device.is_cuda()) return at::kHalf;
    return FailedPrecondition("precision fp16 needs CUDA (no fast fp16 on this CPU)");
  }
  if (precision == "bf16") {
    if (device.is_cuda() || options.allow_cpu_bf16) return at::kBFloat16;
    return FailedPrecondition(
        "precision bf16 on CPU is emulated (no BF16 instructions); enable allow_cpu_bf16 to use "
        "it");
  }
  return InvalidArgument("unknown precision '" + precision + "' (fp32, fp16, bf16)");
}

int64_t ModuleTensorBytes(const torch::jit::Module& module) {
  int64_t bytes = 0;
  for (const auto& p : module.parameters()) bytes += p.nbytes();
  for (const auto& b : module.buffers()) bytes += b.nbytes();
  return bytes;
}

struct Prepared {
  torch::jit::Module module;
  int64_t weight_bytes = 0;
  bool has_weights = false;
  std::function<Status(const Shape&)> check_input;  // may be empty
};

Result<Prepared> PrepareSeghub(const ModelConfig& config) {
  SEGHUB_ASSIGN_OR_RETURN(models::NetworkSpec net,
                          models::BuildNetwork(config.architecture, config.arch_params));
  Prepared p;
  if (config.has_weights()) {
    // .safetensors or a torch.save checkpoint (.pth/.pt), by extension.
    SEGHUB_RETURN_IF_ERROR(models::LoadWeightsFile(&net, config.weights_path()));
    p.has_weights = true;
  }
  p.weight_bytes = models::ParameterBytes(net);
  p.check_input = net.check_input;
  p.module = net.module;
  return p;
}

Result<Prepared> PrepareTorchScript(const ModelConfig& config) {
  if (!config.has_weights()) {
    return InvalidArgument("model '" + config.name + "': format torchscript needs a weights file");
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(config.weights_path(), ec)) {
    return NotFound("TorchScript file not found: " + config.weights_path().string());
  }
  return Guarded<Result<Prepared>>("loading " + config.weights_path().string(), [&] {
    Prepared p;
    p.module = torch::jit::load(config.weights_path().string(), c10::Device(c10::kCPU));
    p.weight_bytes = ModuleTensorBytes(p.module);
    p.has_weights = true;
    const int64_t channels = config.input.channels;  // declared; a TorchScript file does not say
    p.check_input = [channels](const Shape& shape) -> Status {
      if (shape.size() == 4 && shape[1] == channels) return Status::Ok();
      return InvalidArgument("expected [N, " + std::to_string(channels) + ", H, W]");
    };
    return Result<Prepared>(std::move(p));
  });
}

class TorchInstance final : public ModelInstance {
 public:
  TorchInstance(torch::jit::Module module, c10::Device device, at::ScalarType dtype, int threads,
                std::function<Status(const Shape&)> check_input)
      : module_(std::move(module)),
        device_(device),
        dtype_(dtype),
        threads_(threads),
        check_input_(std::move(check_input)) {
#ifdef SEGHUB_TORCH_CUDA
    if (device_.is_cuda()) stream_ = c10::cuda::getStreamFromPool(false, device_.index());
#endif
  }

  Result<Tensor> Run(const Tensor& batch) override {
    if (batch.shape.empty() || static_cast<int64_t>(batch.data.size()) != batch.numel()) {
      return InvalidArgument("batch shape " + ShapeToString(batch.shape) + " does not match its " +
                             std::to_string(batch.data.size()) + " values");
    }
    // Shapes the network cannot run are refused here: an op throwing inside a frozen module
    // crashes LibTorch 1.13 once a second frozen module exists (see TorchBackendOptions::freeze).
    if (check_input_) SEGHUB_RETURN_IF_ERROR(check_input_(batch.shape));
    // Thread counts live in the calling thread's OpenMP state: set them once per worker thread.
    if (configured_thread_ != std::this_thread::get_id()) {
      SetThreadIntraOpThreads(threads_);
      configured_thread_ = std::this_thread::get_id();
    }
    return Guarded<Result<Tensor>>("forward", [&] { return Forward(batch); });
  }

 private:
  Result<Tensor> Forward(const Tensor& batch) {
    c10::InferenceMode inference_mode;
#ifdef SEGHUB_TORCH_CUDA
    std::optional<c10::cuda::CUDAStreamGuard> stream_guard;
    if (stream_) stream_guard.emplace(*stream_);
#endif
    // from_blob aliases the caller's buffer: no copy on CPU/fp32. forward never writes its input.
    at::Tensor input = at::from_blob(const_cast<float*>(batch.data.data()), batch.shape,
                                     at::TensorOptions().dtype(at::kFloat));
    if (device_ != input.device() || dtype_ != at::kFloat) input = input.to(device_, dtype_);
    c10::IValue out = module_.forward({input});
    if (out.isTuple()) out = out.toTupleRef().elements().at(0);
    if (!out.isTensor()) return Internal("forward did not return a tensor");
    at::Tensor y = out.toTensor().to(at::kCPU, at::kFloat).contiguous();
    Tensor result;
    result.shape.assign(y.sizes().begin(), y.sizes().end());
    const float* data = y.data_ptr<float>();
    result.data.assign(data, data + y.numel());
    return result;
  }

  torch::jit::Module module_;  // shallow handle: shares the loaded model's graph and weights
  c10::Device device_;
  at::ScalarType dtype_;
  int threads_;
  std::function<Status(const Shape&)> check_input_;
  std::thread::id configured_thread_;
#ifdef SEGHUB_TORCH_CUDA
  std::optional<c10::cuda::CUDAStream> stream_;
#endif
};

class TorchLoadedModel final : public LoadedModel {
 public:
  TorchLoadedModel(torch::jit::Module module, c10::Device device, at::ScalarType dtype, int threads,
                   int64_t weight_bytes, bool has_weights,
                   std::function<Status(const Shape&)> check_input)
      : module_(std::move(module)),
        device_(device),
        dtype_(dtype),
        threads_(threads),
        weight_bytes_(weight_bytes),
        has_weights_(has_weights),
        check_input_(std::move(check_input)) {}

  Result<std::unique_ptr<ModelInstance>> CreateInstance(int index) override {
    return std::unique_ptr<ModelInstance>(
        std::make_unique<TorchInstance>(module_, device_, dtype_, threads_, check_input_));
  }
  int64_t weight_bytes() const override { return weight_bytes_; }
  std::string device() const override { return device_.str(); }
  bool has_weights() const override { return has_weights_; }

  // Peak-minus-baseline of CPU tensor memory over two batch-1 forwards (the first forward of a
  // shape profiles and sets up oneDNN, which can allocate more than later ones). Process-wide
  // counters: concurrent forwards of other models inflate the figure, never deflate it.
  Result<int64_t> MeasureSampleBytes(const Shape& sample_shape) override {
    if (device_.is_cuda()) return Unimplemented("activation measurement is CPU-only");
    if (!TorchCpuMemoryStats().tracking) return Unimplemented("tracking allocator not installed");
    Shape shape = sample_shape;
    shape.insert(shape.begin(), 1);
    Tensor input = Tensor::Zeros(shape);
    TorchInstance instance(module_, device_, dtype_, threads_, check_input_);
    const int64_t baseline = TorchCpuMemoryStats().current_bytes;
    ResetCpuPeakBytes();
    for (int i = 0; i < 2; ++i) {
      auto out = instance.Run(input);
      if (!out.ok()) return out.status();
    }
    return std::max<int64_t>(0, TorchCpuMemoryStats().peak_bytes - baseline);
  }

 private:
  torch::jit::Module module_;
  c10::Device device_;
  at::ScalarType dtype_;
  int threads_;
  int64_t weight_bytes_;
  bool has_weights_;
  std::function<Status(const Shape&)> check_input_;
};

class TorchBackend final : public Backend {
 public:
  explicit TorchBackend(TorchBackendOptions options) : options_(options) {
    InstallTrackingCpuAllocator();
  }
  std::string_view name() const override { return "torch"; }

  Result<std::unique_ptr<LoadedModel>> Load(const ModelConfig& config) override {
    const c10::Device device =
        CudaAvailable() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
    SEGHUB_ASSIGN_OR_RETURN(at::ScalarType dtype,
                            ChoosePrecision(config.precision, device, options_));
    Result<Prepared> prepared = InvalidArgument("model '" + config.name + "': unknown format '" +
                                                config.format + "' (seghub, torchscript)");
    if (config.format == "seghub") {
      prepared = Guarded<Result<Prepared>>("building " + config.name,
                                           [&] { return PrepareSeghub(config); });
    } else if (config.format == "torchscript") {
      prepared = PrepareTorchScript(config);
    }
    if (!prepared.ok()) return prepared.status();
    const int hardware = std::max(1u, std::thread::hardware_concurrency());
    const int threads = config.threads_per_instance > 0
                            ? config.threads_per_instance
                            : std::max(1, hardware / std::max(1, config.instance_count));
    return Guarded<Result<std::unique_ptr<LoadedModel>>>("preparing " + config.name, [&] {
      torch::jit::Module module = prepared->module;
      module.eval();
      module.to(device, dtype);
      // Freezing only pays on CPU (oneDNN); on CUDA it adds the crash risk without the gain.
      if (options_.freeze && !device.is_cuda()) {
        // freeze() clones, inlines the weights as constants and folds; optimize_for_inference
        // moves CPU convolutions to prepacked oneDNN kernels.
        module = torch::jit::freeze(module);
        module = torch::jit::optimize_for_inference(module);
      }
      return Result<std::unique_ptr<LoadedModel>>(std::make_unique<TorchLoadedModel>(
          std::move(module), device, dtype, threads, prepared->weight_bytes, prepared->has_weights,
          prepared->check_input));
    });
  }

 private:
  TorchBackendOptions options_;
};

}  // namespace

std::unique_ptr<Backend> MakeTorchBackend(TorchBackendOptions options) {
  return std::make_unique<TorchBackend>(options);
}

void SetThreadIntraOpThreads(int threads) {
  // The first parallel region of a thread runs at::init_num_threads(), which re-applies the
  // process-wide count and would override ours: trigger it first.
  at::internal::lazy_init_num_threads();
  omp_set_num_threads(std::max(1, threads));
}

int ThreadIntraOpThreads() { return at::get_num_threads(); }

}  // namespace seghub::engine
