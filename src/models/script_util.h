// Small helpers shared by the architecture builders that generate TorchScript source.
#ifndef SEGHUB_MODELS_SCRIPT_UTIL_H_
#define SEGHUB_MODELS_SCRIPT_UTIL_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "models/network.h"

namespace seghub::models::script {

// Appends one parameter (attribute name is filled in by AssembleNetwork).
inline void Add(std::vector<ParamSpec>* params, std::string name, std::vector<int64_t> shape) {
  params->push_back({std::move(name), "", std::move(shape)});
}

// Appends `prefix.weight [c]` and `prefix.bias [c]` (an affine InstanceNorm).
inline void AddNorm(std::vector<ParamSpec>* params, const std::string& prefix, int64_t c) {
  Add(params, prefix + ".weight", {c});
  Add(params, prefix + ".bias", {c});
}

// "self.<prefix.s0>, self.<prefix.s1>, ..." with sanitised names: the argument list for a
// TorchScript helper that takes a block's parameters in a fixed order. An empty prefix names
// top-level parameters.
inline std::string Attrs(const std::string& prefix, std::initializer_list<const char*> suffixes) {
  std::string out;
  for (const char* s : suffixes) {
    if (!out.empty()) out += ", ";
    out += "self." + SanitizeName(prefix.empty() ? std::string(s) : prefix + "." + s);
  }
  return out;
}

// TorchScript helpers shared by the InstanceNorm networks: the aten ops the Hub's Python modules
// dispatch to, with the same arguments, so results match PyTorch's eval forward.
constexpr const char* kNormHelpers = R"TS(
def inorm(self, x: Tensor, g: Tensor, b: Tensor) -> Tensor:
    return torch.instance_norm(x, g, b, None, None, True, 0.1, 1e-05, True)

def conv(self, x: Tensor, w: Tensor, stride: int, pad: int) -> Tensor:
    return torch.conv2d(x, w, None, [stride, stride], [pad, pad], [1, 1], 1)

def cn(self, x: Tensor, w: Tensor, g: Tensor, b: Tensor, stride: int, pad: int) -> Tensor:
    return self.inorm(self.conv(x, w, stride, pad), g, b)

def cnr(self, x: Tensor, w: Tensor, g: Tensor, b: Tensor, stride: int, pad: int) -> Tensor:
    return torch.relu(self.cn(x, w, g, b, stride, pad))
)TS";

}  // namespace seghub::models::script

#endif  // SEGHUB_MODELS_SCRIPT_UTIL_H_
