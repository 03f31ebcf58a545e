#include "models/cbam_resunet.h"

#include <algorithm>
#include <sstream>

#include "models/script_util.h"

namespace seghub::models {
namespace {

using script::Add;
using script::AddNorm;
using script::Attrs;

int64_t MlpWidth(int64_t c) { return std::max<int64_t>(c / 16, 8); }

// ResidualBlockCBAM(cin -> c): conv1, norm1, conv2, norm2, adjust_channels (cin != c), cbam.
void AddResidualBlock(const std::string& p, int64_t cin, int64_t c,
                      std::vector<ParamSpec>* params) {
  Add(params, p + ".conv1.weight", {c, cin, 3, 3});
  AddNorm(params, p + ".norm1", c);
  Add(params, p + ".conv2.weight", {c, c, 3, 3});
  AddNorm(params, p + ".norm2", c);
  if (cin != c) {
    Add(params, p + ".adjust_channels.0.weight", {c, cin, 1, 1});
    AddNorm(params, p + ".adjust_channels.1", c);
  }
  const int64_t h = MlpWidth(c);
  Add(params, p + ".cbam.channel_attention.shared_mlp.0.weight", {h, c});
  Add(params, p + ".cbam.channel_attention.shared_mlp.2.weight", {c, h});
  Add(params, p + ".cbam.spatial_attention.conv.weight", {1, 2, 7, 7});
}

// AttentionGate(f): W_g, W_x (1x1 conv f -> f/2 with bias, IN), psi (1x1 conv f/2 -> 1, IN(1)).
void AddAttentionGate(const std::string& p, int64_t f, std::vector<ParamSpec>* params) {
  const int64_t fi = f / 2;
  for (const char* branch : {".W_g", ".W_x"}) {
    Add(params, p + branch + ".0.weight", {fi, f, 1, 1});
    Add(params, p + branch + ".0.bias", {fi});
    AddNorm(params, p + branch + ".1", fi);
  }
  Add(params, p + ".psi.0.weight", {1, fi, 1, 1});
  Add(params, p + ".psi.0.bias", {1});
  AddNorm(params, p + ".psi.1", 1);
}

// Same aten ops as the Hub's modules: AdaptiveAvgPool2d(1)/AdaptiveMaxPool2d(1) + Linear for the
// channel attention, mean/max over channels + 7x7 conv for the spatial attention.
constexpr const char* kHelpers = R"TS(
def cbam(self, x: Tensor, w1: Tensor, w2: Tensor, ws: Tensor) -> Tensor:
    n = x.size(0)
    c = x.size(1)
    a = torch.adaptive_avg_pool2d(x, [1, 1]).reshape([n, c])
    m = torch.amax(x, [2, 3], False)
    a = torch.linear(torch.relu(torch.linear(a, w1, None)), w2, None)
    m = torch.linear(torch.relu(torch.linear(m, w1, None)), w2, None)
    x = x * torch.sigmoid(a + m).view([n, c, 1, 1])
    s = torch.cat([torch.mean(x, [1], True), torch.amax(x, [1], True)], 1)
    return x * torch.sigmoid(self.conv(s, ws, 1, 3))

def rb(self, x: Tensor, r: Tensor, c1: Tensor, g1: Tensor, b1: Tensor, c2: Tensor, g2: Tensor, b2: Tensor, m1: Tensor, m2: Tensor, ws: Tensor) -> Tensor:
    t = self.cnr(x, c1, g1, b1, 1, 1)
    t = self.cn(t, c2, g2, b2, 1, 1)
    return self.cbam(torch.relu(t + r), m1, m2, ws)

def ag(self, g: Tensor, s: Tensor, wg: Tensor, bg: Tensor, gg: Tensor, hg: Tensor, wx: Tensor, bx: Tensor, gx: Tensor, hx: Tensor, wp: Tensor, bp: Tensor, gp: Tensor, hp: Tensor) -> Tensor:
    g1 = self.inorm(torch.conv2d(g, wg, bg, [1, 1], [0, 0], [1, 1], 1), gg, hg)
    x1 = self.inorm(torch.conv2d(s, wx, bx, [1, 1], [0, 0], [1, 1], 1), gx, hx)
    q = torch.relu(g1 + x1)
    p = self.inorm(torch.conv2d(q, wp, bp, [1, 1], [0, 0], [1, 1], 1), gp, hp)
    return s * torch.sigmoid(p)

def pool(self, x: Tensor) -> Tensor:
    return torch.max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], False)

def fit(self, x: Tensor, ref: Tensor) -> Tensor:
    if x.size(2) != ref.size(2) or x.size(3) != ref.size(3):
        x = torch.upsample_bilinear2d(x, [ref.size(2), ref.size(3)], False, None, None)
    return x
)TS";

// `x = <block>(x)` for the residual block at `p`; `var` is read and reassigned.
std::string ResidualBlockLine(const std::string& var, const std::string& p, bool adjust) {
  const std::string residual =
      adjust ? "self.cn(" + var + ", " + Attrs(p, {"adjust_channels.0.weight"}) + ", " +
                   Attrs(p, {"adjust_channels.1.weight", "adjust_channels.1.bias"}) + ", 1, 0)"
             : var;
  return "    " + var + " = self.rb(" + var + ", " + residual + ", " +
         Attrs(p, {"conv1.weight", "norm1.weight", "norm1.bias", "conv2.weight", "norm2.weight",
                   "norm2.bias", "cbam.channel_attention.shared_mlp.0.weight",
                   "cbam.channel_attention.shared_mlp.2.weight",
                   "cbam.spatial_attention.conv.weight"}) +
         ")\n";
}

std::string AttentionGateArgs(const std::string& p) {
  return Attrs(p, {"W_g.0.weight", "W_g.0.bias", "W_g.1.weight", "W_g.1.bias", "W_x.0.weight",
                   "W_x.0.bias", "W_x.1.weight", "W_x.1.bias", "psi.0.weight", "psi.0.bias",
                   "psi.1.weight", "psi.1.bias"});
}

}  // namespace

Result<CbamResUnetConfig> ParseCbamResUnetConfig(const nlohmann::json& j) {
  CbamResUnetConfig c;
  if (!j.is_object()) return InvalidArgument("cbam_resunet arch_params must be an object");
  try {
    if (j.contains("features")) c.features = j.at("features").get<std::vector<int64_t>>();
    if (j.contains("in_channels")) c.in_channels = j.at("in_channels").get<int64_t>();
    if (j.contains("out_channels")) c.out_channels = j.at("out_channels").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("cbam_resunet arch_params: ") + e.what());
  }
  if (c.features.empty() || c.features.size() > 8) {
    return InvalidArgument("cbam_resunet features needs 1 to 8 levels");
  }
  for (int64_t f : c.features) {
    // f/2-wide attention gates and an F0/2-wide head would be empty below 2.
    if (f < 2) return InvalidArgument("cbam_resunet features must be >= 2");
  }
  if (c.in_channels <= 0 || c.out_channels <= 0) {
    return InvalidArgument("cbam_resunet in_channels/out_channels must be positive");
  }
  return c;
}

std::vector<int64_t> CbamResUnetFeaturesFromStateDict(
    const std::map<std::string, at::Tensor>& state_dict) {
  std::vector<int64_t> features;
  for (int i = 0; i < 6; ++i) {
    auto it = state_dict.find("downs." + std::to_string(i) + ".conv1.weight");
    if (it == state_dict.end() || it->second.dim() < 1) break;
    features.push_back(it->second.size(0));
  }
  return features;
}

std::vector<ParamSpec> CbamResUnetParams(const CbamResUnetConfig& c) {
  const auto& f = c.features;
  const size_t levels = f.size();
  const int64_t wide = 2 * f.back();
  std::vector<ParamSpec> params;
  Add(&params, "init_conv.0.weight", {f[0], c.in_channels, 3, 3});
  AddNorm(&params, "init_conv.1", f[0]);
  for (size_t i = 0; i < levels; ++i) {
    AddResidualBlock("downs." + std::to_string(i), i == 0 ? f[0] : f[i - 1], f[i], &params);
  }
  AddResidualBlock("bottleneck.0", f.back(), wide, &params);
  AddResidualBlock("bottleneck.1", wide, wide, &params);
  for (size_t l = 0; l < levels; ++l) {
    const int64_t out = f[levels - 1 - l], prev = l == 0 ? wide : f[levels - l];
    Add(&params, "ups." + std::to_string(2 * l) + ".weight", {prev, out, 2, 2});
    Add(&params, "ups." + std::to_string(2 * l) + ".bias", {out});
    AddResidualBlock("ups." + std::to_string(2 * l + 1), 2 * out, out, &params);
  }
  for (size_t l = 0; l < levels; ++l) {
    AddAttentionGate("attentions." + std::to_string(l), f[levels - 1 - l], &params);
  }
  Add(&params, "final_conv.0.weight", {f[0] / 2, f[0], 3, 3});
  AddNorm(&params, "final_conv.1", f[0] / 2);
  Add(&params, "final_conv.4.weight", {c.out_channels, f[0] / 2, 1, 1});
  Add(&params, "final_conv.4.bias", {c.out_channels});
  return params;
}

std::string CbamResUnetSource(const CbamResUnetConfig& c) {
  const auto& f = c.features;
  const size_t levels = f.size();
  std::ostringstream s;
  s << script::kNormHelpers << kHelpers << "\ndef forward(self, x: Tensor) -> Tensor:\n";
  s << "    y = self.cnr(x, " << Attrs("init_conv", {"0.weight", "1.weight", "1.bias"})
    << ", 1, 1)\n";
  for (size_t i = 0; i < levels; ++i) {
    const std::string skip = "s" + std::to_string(i);
    s << ResidualBlockLine("y", "downs." + std::to_string(i), i > 0 && f[i] != f[i - 1]);
    s << "    " << skip << " = y\n    y = self.pool(y)\n";
  }
  s << ResidualBlockLine("y", "bottleneck.0", true)
    << ResidualBlockLine("y", "bottleneck.1", false);
  for (size_t l = 0; l < levels; ++l) {
    const std::string up = "ups." + std::to_string(2 * l);
    const std::string skip = "s" + std::to_string(levels - 1 - l);
    s << "    y = self.fit(torch.conv_transpose2d(y, " << Attrs(up, {"weight", "bias"})
      << ", [2, 2], [0, 0], [0, 0], 1, [1, 1]), " << skip << ")\n";
    s << "    y = torch.cat([self.ag(y, " << skip << ", "
      << AttentionGateArgs("attentions." + std::to_string(l)) << "), y], 1)\n";
    s << ResidualBlockLine("y", "ups." + std::to_string(2 * l + 1), true);
  }
  s << "    y = self.cnr(y, " << Attrs("final_conv", {"0.weight", "1.weight", "1.bias"})
    << ", 1, 1)\n";
  s << "    y = torch.conv2d(y, " << Attrs("final_conv", {"4.weight", "4.bias"})
    << ", [1, 1], [0, 0], [1, 1], 1)\n";
  s << "    return self.fit(y, x)\n";
  return s.str();
}

Result<NetworkSpec> BuildCbamResUnet(const CbamResUnetConfig& config) {
  SEGHUB_ASSIGN_OR_RETURN(
      NetworkSpec net,
      AssembleNetwork("cbam_resunet", CbamResUnetParams(config), CbamResUnetSource(config)));
  net.ignored_prefixes = {"deep_outputs."};
  const int64_t pools = static_cast<int64_t>(config.features.size());
  const int64_t channels = config.in_channels;
  net.check_input = PooledInputCheck("a CBAM-ResUNet", channels, pools);
  net.in_channels = static_cast<int>(config.in_channels);
  net.out_channels = static_cast<int>(config.out_channels);
  return net;
}

Result<NetworkSpec> BuildCbamResUnet(const nlohmann::json& arch_params) {
  SEGHUB_ASSIGN_OR_RETURN(CbamResUnetConfig config, ParseCbamResUnetConfig(arch_params));
  return BuildCbamResUnet(config);
}

}  // namespace seghub::models
