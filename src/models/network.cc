#include "models/network.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <new>
#include <set>
#include <sstream>

#include "engine/safetensors.h"
#include "models/cbam_resunet.h"
#include "models/hrnet.h"
#include "models/unet.h"
#include "models/unet1d.h"

namespace seghub::models {
namespace {

using Builder = std::function<Result<NetworkSpec>(const nlohmann::json&)>;

const std::map<std::string, Builder, std::less<>>& Builders() {
  const Builder unet = [](const nlohmann::json& j) { return BuildUnet(j); };
  static const auto* builders = new std::map<std::string, Builder, std::less<>>{
      {"unet", unet},
      {"unet_spherohq", unet},  // the Hub's service key
      {"cbam_resunet", [](const nlohmann::json& j) { return BuildCbamResUnet(j); }},
      {"hrnet", [](const nlohmann::json& j) { return BuildHrnet(j); }},
      {"unet1d", [](const nlohmann::json& j) { return BuildUnet1d(j); }},
  };
  return *builders;
}

Result<at::ScalarType> ToScalarType(engine::DType dtype) {
  switch (dtype) {
    case engine::DType::kF64:
      return at::kDouble;
    case engine::DType::kF32:
      return at::kFloat;
    case engine::DType::kF16:
      return at::kHalf;
    case engine::DType::kBF16:
      return at::kBFloat16;
    case engine::DType::kI64:
      return at::kLong;
    case engine::DType::kI32:
      return at::kInt;
    case engine::DType::kI16:
      return at::kShort;
    case engine::DType::kI8:
      return at::kChar;
    case engine::DType::kU8:
      return at::kByte;
    case engine::DType::kBool:
      return at::kBool;
  }
  return InvalidArgument("unsupported dtype");
}

std::string JoinLimited(const std::vector<std::string>& names, size_t limit = 12) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < limit; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > limit) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

std::string ShapeString(at::IntArrayRef shape) {
  std::ostringstream s;
  s << shape;
  return s.str();
}

bool IsIgnored(const NetworkSpec& net, const std::string& name) {
  return std::any_of(net.ignored_prefixes.begin(), net.ignored_prefixes.end(),
                     [&](const std::string& p) { return name.rfind(p, 0) == 0; });
}

}  // namespace

std::function<Status(const std::vector<int64_t>&)> PooledInputCheck(std::string label,
                                                                    int64_t channels,
                                                                    int64_t pools) {
  return [label = std::move(label), channels, pools](const std::vector<int64_t>& shape) -> Status {
    if (shape.size() != 4 || shape[1] != channels) {
      return InvalidArgument(label + " expects [N, " + std::to_string(channels) + ", H, W]");
    }
    const int64_t h = shape[2] >> pools, w = shape[3] >> pools;
    if (shape[0] < 1 || h * w < 2) {
      return InvalidArgument("input " + std::to_string(shape[2]) + "x" + std::to_string(shape[3]) +
                             " is too small for " + label + " with " + std::to_string(pools) +
                             " pooling levels");
    }
    return Status::Ok();
  };
}

std::string SanitizeName(std::string_view hub_name) {
  std::string out;
  out.reserve(hub_name.size() + 8);
  for (char c : hub_name) {
    if (c == '.') {
      out += "__";
    } else {
      out += c;
    }
  }
  return out;
}

Result<NetworkSpec> AssembleNetwork(std::string architecture, std::vector<ParamSpec> params,
                                    const std::string& source) {
  try {
    NetworkSpec net;
    net.architecture = std::move(architecture);
    net.module = torch::jit::Module("seghub_" + net.architecture);
    for (auto& p : params) {
      p.attr_name = SanitizeName(p.hub_name);
      net.module.register_parameter(p.attr_name, torch::empty(p.shape), /*is_buffer=*/false);
    }
    net.params = std::move(params);
    net.module.define(source);
    RandomInit(&net, 0);
    return net;
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory while building " + architecture);
  } catch (const std::exception& e) {
    return Internal("cannot build network '" + architecture + "': " + e.what());
  }
}

Result<NetworkSpec> BuildNetwork(std::string_view architecture, const nlohmann::json& arch_params) {
  auto it = Builders().find(architecture);
  if (it == Builders().end()) {
    std::string known;
    for (const auto& name : RegisteredArchitectures()) known += (known.empty() ? "" : ", ") + name;
    return NotFound("unknown architecture '" + std::string(architecture) + "' (known: " + known +
                    ")");
  }
  return it->second(arch_params.is_null() ? nlohmann::json::object() : arch_params);
}

std::vector<std::string> RegisteredArchitectures() {
  std::vector<std::string> names;
  for (const auto& [name, builder] : Builders()) names.push_back(name);
  return names;
}

double FillUniform(uint32_t seed, uint32_t k, uint32_t j) {
  uint32_t x = j * 0x9E3779B1u + k * 0x85EBCA77u + seed * 0xC2B2AE3Du + 0x27D4EB2Fu;
  x ^= x >> 16;
  x *= 0x85EBCA6Bu;
  x ^= x >> 13;
  x *= 0xC2B2AE35u;
  x ^= x >> 16;
  const int32_t m = static_cast<int32_t>(x >> 8) - 8388608;
  return m / 8388608.0;
}

void RandomInit(NetworkSpec* net, uint32_t seed) {
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < net->params.size(); ++k) {
    const ParamSpec& p = net->params[k];
    at::Tensor cpu = torch::empty(p.shape, at::kFloat);
    float* data = cpu.data_ptr<float>();
    const int64_t n = cpu.numel();
    const bool is_weight =
        p.hub_name.size() >= 7 && p.hub_name.compare(p.hub_name.size() - 7, 7, ".weight") == 0;
    // Computed in double and rounded once, as the fill rule prescribes (bit-exact everywhere).
    const double bound =
        p.shape.size() >= 2 ? std::sqrt(6.0 / static_cast<double>(n / p.shape[0])) : 0.0;
    for (int64_t j = 0; j < n; ++j) {
      const double u = FillUniform(seed, static_cast<uint32_t>(k), static_cast<uint32_t>(j));
      double v;
      if (p.shape.size() >= 2) {
        v = u * bound;
      } else if (is_weight) {
        v = 1.0 + u * 0.25;
      } else {
        v = u * 0.125;
      }
      data[j] = static_cast<float>(v);
    }
    net->module.attr(p.attr_name).toTensor().copy_(cpu);
  }
}

at::Tensor GetParameter(const NetworkSpec& net, std::string_view hub_name) {
  for (const auto& p : net.params) {
    if (p.hub_name == hub_name) return net.module.attr(p.attr_name).toTensor();
  }
  return {};
}

int64_t ParameterBytes(const NetworkSpec& net) {
  int64_t bytes = 0;
  for (const auto& p : net.params) bytes += GetParameter(net, p.hub_name).nbytes();
  return bytes;
}

Status LoadStateDict(NetworkSpec* net, const std::map<std::string, at::Tensor>& tensors) {
  std::vector<std::string> missing, mismatched, unexpected;
  std::set<std::string> expected;
  for (const auto& p : net->params) {
    expected.insert(p.hub_name);
    auto it = tensors.find(p.hub_name);
    if (it == tensors.end()) {
      missing.push_back(p.hub_name);
    } else if (it->second.sizes() != at::IntArrayRef(p.shape)) {
      mismatched.push_back(p.hub_name + " (checkpoint " + ShapeString(it->second.sizes()) +
                           ", network " + ShapeString(p.shape) + ")");
    } else if (!it->second.is_floating_point()) {
      mismatched.push_back(p.hub_name + " (non-floating dtype " +
                           std::string(c10::toString(it->second.scalar_type())) + ")");
    }
  }
  for (const auto& [name, t] : tensors) {
    if (!expected.count(name) && !IsIgnored(*net, name)) unexpected.push_back(name);
  }
  if (!missing.empty() || !mismatched.empty() || !unexpected.empty()) {
    std::string msg = "weights do not fit architecture '" + net->architecture + "':";
    if (!missing.empty()) msg += " missing [" + JoinLimited(missing) + "];";
    if (!mismatched.empty()) msg += " shape/dtype mismatch [" + JoinLimited(mismatched) + "];";
    if (!unexpected.empty()) msg += " unexpected [" + JoinLimited(unexpected) + "];";
    return InvalidArgument(msg);
  }
  try {
    torch::NoGradGuard no_grad;
    for (const auto& p : net->params) {
      net->module.attr(p.attr_name).toTensor().copy_(tensors.at(p.hub_name));
    }
  } catch (const std::exception& e) {
    return Internal(std::string("copying weights failed: ") + e.what());
  }
  return Status::Ok();
}

std::vector<std::string> GrowOutputs(const NetworkSpec& net,
                                     std::map<std::string, at::Tensor>* tensors) {
  std::vector<std::string> grown;
  for (const auto& p : net.params) {
    auto it = tensors->find(p.hub_name);
    if (it == tensors->end() || it->second.dim() != static_cast<int64_t>(p.shape.size())) continue;
    const at::Tensor& have = it->second;
    if (have.dim() == 0 || have.size(0) >= p.shape[0]) continue;
    bool rest_equal = true;
    for (int64_t d = 1; d < have.dim(); ++d) rest_equal = rest_equal && have.size(d) == p.shape[d];
    if (!rest_equal) continue;
    const at::Tensor current = GetParameter(net, p.hub_name).detach().to(at::kCPU, at::kFloat);
    it->second = torch::cat({have.to(at::kFloat), current.slice(0, have.size(0))}, 0);
    grown.push_back(p.hub_name);
  }
  return grown;
}

Result<std::map<std::string, at::Tensor>> ReadSafetensorsTensors(
    const std::filesystem::path& path) {
  SEGHUB_ASSIGN_OR_RETURN(engine::SafetensorsFile file, engine::SafetensorsFile::Read(path));
  std::map<std::string, at::Tensor> out;
  try {
    for (const auto& e : file.tensors()) {
      SEGHUB_ASSIGN_OR_RETURN(at::ScalarType type, ToScalarType(e.dtype));
      at::Tensor t = torch::empty(e.shape, type);
      auto data = file.Data(e);
      // Copy rather than alias: the file buffer is unaligned and dies with `file`.
      if (!data.empty()) std::memcpy(t.data_ptr(), data.data(), data.size());
      out.emplace(e.name, std::move(t));
    }
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory reading " + path.string());
  } catch (const std::exception& e) {
    return Internal("reading " + path.string() + ": " + e.what());
  }
  return out;
}

Status LoadSafetensorsWeights(NetworkSpec* net, const std::filesystem::path& path) {
  SEGHUB_ASSIGN_OR_RETURN(auto tensors, ReadSafetensorsTensors(path));
  Status s = LoadStateDict(net, tensors);
  if (!s.ok()) return Status(s.code(), path.string() + ": " + s.message());
  return s;
}

Status SaveSafetensorsWeights(const NetworkSpec& net, const std::filesystem::path& path,
                              const std::map<std::string, std::string>& metadata) {
  std::vector<at::Tensor> keep;  // owns the contiguous float32 copies the views point into
  std::vector<engine::SafetensorsTensorView> views;
  try {
    for (const auto& p : net.params) {
      at::Tensor t = GetParameter(net, p.hub_name).detach().to(at::kCPU, at::kFloat).contiguous();
      keep.push_back(t);
      views.push_back(
          {p.hub_name,
           engine::DType::kF32,
           p.shape,
           {static_cast<const uint8_t*>(t.data_ptr()), static_cast<size_t>(t.nbytes())}});
    }
  } catch (const std::exception& e) {
    return Internal(std::string("saving weights failed: ") + e.what());
  }
  return engine::WriteSafetensors(path, views, metadata);
}

}  // namespace seghub::models
