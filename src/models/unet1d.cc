#include "models/unet1d.h"

#include <sstream>

namespace seghub::models {
namespace {

constexpr int kLevels = 4;  // encoder levels; dilation of level i is 2^i

// conv (no bias, BatchNorm follows) + BatchNorm affine + running statistics.
void AddConvBn(const std::string& prefix, int64_t cin, int64_t cout,
               std::vector<ParamSpec>* params) {
  params->push_back({prefix + ".conv.weight", "", {cout, cin, 3}});
  params->push_back({prefix + ".bn.weight", "", {cout}});
  params->push_back({prefix + ".bn.bias", "", {cout}});
  params->push_back({prefix + ".bn.running_mean", "", {cout}});
  params->push_back({prefix + ".bn.running_var", "", {cout}});
}

void AddBlock(const std::string& prefix, int64_t cin, int64_t cout,
              std::vector<ParamSpec>* params) {
  AddConvBn(prefix + ".0", cin, cout, params);
  AddConvBn(prefix + ".1", cout, cout, params);
}

// Arguments of the `block` helper for one two-layer block: ten tensors.
std::string BlockArgs(const std::string& prefix) {
  std::string out;
  for (const char* layer : {".0", ".1"}) {
    const std::string p = "self." + SanitizeName(prefix + layer);
    out += p + "__conv__weight, " + p + "__bn__weight, " + p + "__bn__bias, " + p +
           "__bn__running_mean, " + p + "__bn__running_var, ";
  }
  return out;
}

// The torch.* calls are the aten ops that nn.Conv1d / nn.BatchNorm1d / nn.MaxPool1d dispatch to,
// so a PyTorch re-implementation with the same state_dict gives the same numbers.
constexpr const char* kHelpers = R"TS(
def cbr(self, x: Tensor, w: Tensor, g: Tensor, b: Tensor, rm: Tensor, rv: Tensor, d: int, t: bool) -> Tensor:
    x = torch.conv1d(x, w, None, [1], [d], [d], 1)
    return torch.relu(torch.batch_norm(x, g, b, rm, rv, t, 0.1, 1e-05, True))

def block(self, x: Tensor, w0: Tensor, g0: Tensor, b0: Tensor, m0: Tensor, v0: Tensor, w1: Tensor, g1: Tensor, b1: Tensor, m1: Tensor, v1: Tensor, d: int, t: bool) -> Tensor:
    return self.cbr(self.cbr(x, w0, g0, b0, m0, v0, d, t), w1, g1, b1, m1, v1, d, t)

def pool(self, x: Tensor) -> Tensor:
    return torch.max_pool1d(x, [2], [2], [0], [1], False)

def attention(self, x: Tensor) -> Tensor:
    q = torch.conv1d(x, self.attention__query__weight, self.attention__query__bias, [1], [0], [1], 1)
    k = torch.conv1d(x, self.attention__key__weight, self.attention__key__bias, [1], [0], [1], 1)
    v = torch.conv1d(x, self.attention__value__weight, self.attention__value__bias, [1], [0], [1], 1)
    scale = 1.0 / float(q.size(1)) ** 0.5
    a = torch.softmax(torch.bmm(q.transpose(1, 2), k) * scale, -1)
    o = torch.bmm(v, a.transpose(1, 2))
    return x + self.attention__gamma * o

def up(self, d: Tensor, skip: Tensor, w: Tensor, b: Tensor) -> Tensor:
    u = torch.conv_transpose1d(d, w, b, [2], [0], [0], 1, [1])
    return torch.cat([skip, u], 1)
)TS";

int64_t Width(const Unet1dConfig& c, int level) { return c.base_width << level; }

}  // namespace

Result<Unet1dConfig> ParseUnet1dConfig(const nlohmann::json& j) {
  Unet1dConfig c;
  if (!j.is_object()) return InvalidArgument("unet1d arch_params must be an object");
  try {
    if (j.contains("base_width")) c.base_width = j.at("base_width").get<int64_t>();
    if (j.contains("in_channels")) c.in_channels = j.at("in_channels").get<int64_t>();
    if (j.contains("out_channels")) c.out_channels = j.at("out_channels").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("unet1d arch_params: ") + e.what());
  }
  // The upper bound keeps 16 * base_width and the parameter count far from overflow.
  if (c.base_width <= 0 || c.base_width > 4096) {
    return InvalidArgument("unet1d base_width must be in [1, 4096]");
  }
  if (c.in_channels <= 0 || c.out_channels <= 0) {
    return InvalidArgument("unet1d in_channels/out_channels must be positive");
  }
  return c;
}

std::vector<ParamSpec> Unet1dParams(const Unet1dConfig& c) {
  std::vector<ParamSpec> params;
  for (int i = 0; i < kLevels; ++i) {
    AddBlock("encoders." + std::to_string(i), i == 0 ? c.in_channels : Width(c, i - 1), Width(c, i),
             &params);
  }
  const int64_t bottom = Width(c, kLevels);
  AddBlock("bottleneck", Width(c, kLevels - 1), bottom, &params);
  const int64_t qk = bottom / 8;
  params.push_back({"attention.query.weight", "", {qk, bottom, 1}});
  params.push_back({"attention.query.bias", "", {qk}});
  params.push_back({"attention.key.weight", "", {qk, bottom, 1}});
  params.push_back({"attention.key.bias", "", {qk}});
  params.push_back({"attention.value.weight", "", {bottom, bottom, 1}});
  params.push_back({"attention.value.bias", "", {bottom}});
  params.push_back({"attention.gamma", "", {1}});
  // Decoder i goes from level kLevels - i (wide) to kLevels - 1 - i.
  for (int i = 0; i < kLevels; ++i) {
    const int64_t out = Width(c, kLevels - 1 - i);
    params.push_back({"upconvs." + std::to_string(i) + ".weight", "", {2 * out, out, 2}});
    params.push_back({"upconvs." + std::to_string(i) + ".bias", "", {out}});
  }
  for (int i = 0; i < kLevels; ++i) {
    const int64_t out = Width(c, kLevels - 1 - i);
    AddBlock("decoders." + std::to_string(i), 2 * out, out, &params);
  }
  params.push_back({"head.weight", "", {c.out_channels, c.base_width, 1}});
  params.push_back({"head.bias", "", {c.out_channels}});
  return params;
}

std::string Unet1dSource(const Unet1dConfig& c) {
  std::ostringstream s;
  // `t` selects BatchNorm's training behaviour; see kUnet1dTrainMethod in the header.
  s << kHelpers << "\ndef forward(self, x: Tensor) -> Tensor:\n    return self.net(x, False)\n";
  s << "\ndef " << kUnet1dTrainMethod
    << "(self, x: Tensor) -> Tensor:\n    return self.net(x, True)\n";
  s << "\ndef net(self, x: Tensor, t: bool) -> Tensor:\n";
  for (int i = 0; i < kLevels; ++i) {
    const std::string in = i == 0 ? "x" : "self.pool(s" + std::to_string(i - 1) + ")";
    s << "    s" << i << " = self.block(" << in << ", "
      << BlockArgs("encoders." + std::to_string(i)) << (1 << i) << ", t)\n";
  }
  s << "    d = self.block(self.pool(s" << kLevels - 1 << "), " << BlockArgs("bottleneck")
    << "1, t)\n";
  s << "    d = self.attention(d)\n";
  for (int i = 0; i < kLevels; ++i) {
    const std::string up = "self.upconvs__" + std::to_string(i);
    s << "    d = self.block(self.up(d, s" << kLevels - 1 - i << ", " << up << "__weight, " << up
      << "__bias), " << BlockArgs("decoders." + std::to_string(i)) << "1, t)\n";
  }
  s << "    return torch.conv1d(d, self.head__weight, self.head__bias, [1], [0], [1], 1)\n";
  return s.str();
}

bool IsUnet1dStatistic(std::string_view name) {
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with(".running_mean") || ends_with(".running_var");
}

void ResetUnet1dStatistics(NetworkSpec* net) {
  torch::NoGradGuard no_grad;
  for (const auto& p : net->params) {
    if (!IsUnet1dStatistic(p.hub_name)) continue;
    at::Tensor t = net->module.attr(p.attr_name).toTensor();
    const bool is_var = p.hub_name.find("running_var") != std::string::npos;
    t.fill_(is_var ? 1.0 : 0.0);
  }
}

Result<NetworkSpec> BuildUnet1d(const Unet1dConfig& config) {
  SEGHUB_ASSIGN_OR_RETURN(NetworkSpec net,
                          AssembleNetwork("unet1d", Unet1dParams(config), Unet1dSource(config)));
  ResetUnet1dStatistics(&net);
  const int64_t channels = config.in_channels;
  // Refused up front: a shape error thrown inside a frozen LibTorch 1.13 module can crash the
  // process (see NetworkSpec::check_input).
  net.check_input = [channels](const std::vector<int64_t>& shape) -> Status {
    if (shape.size() != 3 || shape[1] != channels) {
      return InvalidArgument("unet1d expects [N, " + std::to_string(channels) + ", L]");
    }
    if (shape[0] <= 0 || shape[2] <= 0 || shape[2] % kUnet1dLengthMultiple != 0) {
      return InvalidArgument("unet1d input length " + std::to_string(shape[2]) +
                             " must be a positive multiple of " +
                             std::to_string(kUnet1dLengthMultiple) + " (four poolings)");
    }
    return Status::Ok();
  };
  net.in_channels = static_cast<int>(config.in_channels);
  net.out_channels = static_cast<int>(config.out_channels);
  return net;
}

Result<NetworkSpec> BuildUnet1d(const nlohmann::json& arch_params) {
  SEGHUB_ASSIGN_OR_RETURN(Unet1dConfig config, ParseUnet1dConfig(arch_params));
  return BuildUnet1d(config);
}

}  // namespace seghub::models
