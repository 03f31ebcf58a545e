// Networks defined in C++ as generated TorchScript, with the Hub's exact parameter names.
//
// A builder (one per architecture, see unet.h) lists the parameters in the Hub's state_dict order
// and emits TorchScript source; AssembleNetwork() registers the parameters on a
// torch::jit::Module under sanitised names ('.' -> "__", since attribute names cannot contain
// dots) and compiles the source with Module::define. The same module serves inference (frozen by
// the backend) and training (script modules support autograd).
//
// Thread-compatible: build and load weights from one thread, then share read-only.
#ifndef SEGHUB_MODELS_NETWORK_H_
#define SEGHUB_MODELS_NETWORK_H_

#include <torch/script.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace seghub::models {

struct ParamSpec {
  std::string hub_name;   // exact state_dict name, e.g. "init_conv.double_conv.0.weight"
  std::string attr_name;  // attribute on the module, e.g. "init_conv__double_conv__0__weight"
  std::vector<int64_t> shape;
};

struct NetworkSpec {
  std::string architecture;
  torch::jit::Module module;
  std::vector<ParamSpec> params;  // state_dict order
  // Checkpoint keys the Hub's non-strict load tolerates (e.g. "deep_outputs."): ignored on load.
  std::vector<std::string> ignored_prefixes;
  int in_channels = 0;
  int out_channels = 0;
  // Rejects input shapes [N, C, H, W] the network cannot run (too small for its deepest
  // normalisation, wrong channels) before forward: an op throwing inside a frozen LibTorch 1.13
  // module can crash the process.
  std::function<Status(const std::vector<int64_t>&)> check_input;
};

// check_input for encoder-decoder networks: [N >= 1, channels, H, W] whose bottleneck, after
// `pools` floor-halvings, still has the 2 pixels its InstanceNorm needs. `label` names the
// network in error messages ("a U-Net").
std::function<Status(const std::vector<int64_t>&)> PooledInputCheck(std::string label,
                                                                    int64_t channels,
                                                                    int64_t pools);

// "a.b.0.c" -> "a__b__0__c".
std::string SanitizeName(std::string_view hub_name);

// Registers `params` (randomly initialised, seed 0) and compiles `source` (which must define
// `forward`). Used by the per-architecture builders.
Result<NetworkSpec> AssembleNetwork(std::string architecture, std::vector<ParamSpec> params,
                                    const std::string& source);

// Registry: "unet" (alias "unet_spherohq"), more later. kNotFound for an unknown architecture,
// kInvalidArgument for bad arch_params.
Result<NetworkSpec> BuildNetwork(std::string_view architecture, const nlohmann::json& arch_params);
std::vector<std::string> RegisteredArchitectures();

// Deterministic Kaiming-like initialisation. Uses the Hub test vectors' hash fill rule
// (test_vectors.md §2): weights of rank >= 2 uniform in +-sqrt(6/fan_in), norm scales 1 +- 0.25,
// biases +-0.125; element j of parameter k depends only on (seed, k, j), so a given seed gives
// bit-identical weights on every machine and thread count.
void RandomInit(NetworkSpec* net, uint32_t seed);
// The fill rule's uniform number in [-1, 1) (exposed for tests).
double FillUniform(uint32_t seed, uint32_t k, uint32_t j);

// Copies `tensors` (Hub names) into the parameters, converting floating dtypes to the parameter
// dtype. Every parameter must be present with its exact shape; names matching ignored_prefixes
// are skipped. Otherwise kInvalidArgument listing every missing, unexpected and mismatched name;
// on error no parameter is modified.
Status LoadStateDict(NetworkSpec* net, const std::map<std::string, at::Tensor>& tensors);

// For every tensor in *tensors whose shape differs from its parameter's only by a smaller first
// dimension (fewer output channels), appends the parameter's current rows beyond it, so
// LoadStateDict then keeps what was learnt and the new channels keep their initialisation.
// Returns the names grown. Other tensors are left for LoadStateDict to judge.
std::vector<std::string> GrowOutputs(const NetworkSpec& net,
                                     std::map<std::string, at::Tensor>* tensors);

// Reads a .safetensors file into Hub-name -> CPU tensor (copies; the file buffer is released).
Result<std::map<std::string, at::Tensor>> ReadSafetensorsTensors(const std::filesystem::path& path);
Status LoadSafetensorsWeights(NetworkSpec* net, const std::filesystem::path& path);
// Writes the parameters (float32, CPU, state_dict order) under their Hub names.
Status SaveSafetensorsWeights(const NetworkSpec& net, const std::filesystem::path& path,
                              const std::map<std::string, std::string>& metadata = {});

// Parameter tensor by Hub name (nullopt-like undefined tensor if unknown).
at::Tensor GetParameter(const NetworkSpec& net, std::string_view hub_name);
int64_t ParameterBytes(const NetworkSpec& net);

}  // namespace seghub::models

#endif  // SEGHUB_MODELS_NETWORK_H_
