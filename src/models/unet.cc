#include "models/unet.h"

#include <sstream>

namespace seghub::models {
namespace {

void AddDoubleConv(const std::string& prefix, int64_t cin, int64_t cout,
                   std::vector<ParamSpec>* params) {
  const std::string p = prefix + ".double_conv.";
  params->push_back({p + "0.weight", "", {cout, cin, 3, 3}});
  params->push_back({p + "1.weight", "", {cout}});
  params->push_back({p + "1.bias", "", {cout}});
  params->push_back({p + "4.weight", "", {cout, cout, 3, 3}});
  params->push_back({p + "5.weight", "", {cout}});
  params->push_back({p + "5.bias", "", {cout}});
}

// Arguments for the `dc` helper: the six parameters of one DoubleConv block.
std::string DoubleConvArgs(const std::string& prefix) {
  const std::string p = "self." + SanitizeName(prefix + ".double_conv.");
  return p + "0__weight, " + p + "1__weight, " + p + "1__bias, " + p + "4__weight, " + p +
         "5__weight, " + p + "5__bias";
}

// Helpers shared by every level. The torch.* calls are the aten ops the Python modules dispatch
// to, with the same arguments, so the frozen graph matches the Hub numerically.
constexpr const char* kHelpers = R"TS(
def dc(self, x: Tensor, w0: Tensor, g1: Tensor, b1: Tensor, w4: Tensor, g5: Tensor, b5: Tensor) -> Tensor:
    x = torch.conv2d(x, w0, None, [1, 1], [1, 1], [1, 1], 1)
    x = torch.relu(torch.instance_norm(x, g1, b1, None, None, True, 0.1, 1e-05, True))
    x = torch.conv2d(x, w4, None, [1, 1], [1, 1], [1, 1], 1)
    return torch.relu(torch.instance_norm(x, g5, b5, None, None, True, 0.1, 1e-05, True))

def pool(self, x: Tensor) -> Tensor:
    return torch.max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], False)

def fit(self, x: Tensor, ref: Tensor) -> Tensor:
    if x.size(2) != ref.size(2) or x.size(3) != ref.size(3):
        x = torch.upsample_bilinear2d(x, [ref.size(2), ref.size(3)], False, None, None)
    return x

def up(self, d: Tensor, skip: Tensor, w: Tensor, b: Tensor) -> Tensor:
    u = torch.conv_transpose2d(d, w, b, [2, 2], [0, 0], [0, 0], 1, [1, 1])
    return torch.cat([skip, self.fit(u, skip)], 1)
)TS";

}  // namespace

Result<UnetConfig> ParseUnetConfig(const nlohmann::json& j) {
  UnetConfig c;
  if (!j.is_object()) return InvalidArgument("unet arch_params must be an object");
  try {
    if (j.contains("features")) c.features = j.at("features").get<std::vector<int64_t>>();
    if (j.contains("in_channels")) c.in_channels = j.at("in_channels").get<int64_t>();
    if (j.contains("out_channels")) c.out_channels = j.at("out_channels").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("unet arch_params: ") + e.what());
  }
  if (c.features.size() < 2) return InvalidArgument("unet features needs at least 2 levels");
  for (size_t i = 0; i < c.features.size(); ++i) {
    if (c.features[i] <= 0) return InvalidArgument("unet features must be positive");
    if (i > 0 && c.features[i] != 2 * c.features[i - 1]) {
      return InvalidArgument(
          "unet features must double at every level (the Hub's decoder "
          "assumes it)");
    }
  }
  if (c.in_channels <= 0 || c.out_channels <= 0) {
    return InvalidArgument("unet in_channels/out_channels must be positive");
  }
  return c;
}

std::vector<ParamSpec> UnetParams(const UnetConfig& c) {
  const auto& f = c.features;
  const size_t levels = f.size();
  std::vector<ParamSpec> params;
  AddDoubleConv("init_conv", c.in_channels, f[0], &params);
  for (size_t i = 0; i + 1 < levels; ++i) {
    AddDoubleConv("downs." + std::to_string(i), f[i], f[i + 1], &params);
  }
  AddDoubleConv("bottleneck", f[levels - 2], f[levels - 1], &params);
  // Decoder widths run from the deepest level up: R[i] -> R[i+1].
  for (size_t i = 0; i + 1 < levels; ++i) {
    const int64_t r_in = f[levels - 1 - i], r_out = f[levels - 2 - i];
    const std::string p = "ups." + std::to_string(i);
    params.push_back({p + ".weight", "", {r_in, r_out, 2, 2}});
    params.push_back({p + ".bias", "", {r_out}});
  }
  for (size_t i = 0; i + 1 < levels; ++i) {
    AddDoubleConv("decoder_blocks." + std::to_string(i), f[levels - 1 - i], f[levels - 2 - i],
                  &params);
  }
  params.push_back({"final_conv.weight", "", {c.out_channels, f[0], 1, 1}});
  params.push_back({"final_conv.bias", "", {c.out_channels}});
  return params;
}

std::string UnetSource(const UnetConfig& c) {
  const size_t levels = c.features.size();
  std::ostringstream s;
  s << kHelpers << "\ndef forward(self, x: Tensor) -> Tensor:\n";
  s << "    s0 = self.dc(x, " << DoubleConvArgs("init_conv") << ")\n";
  // Encoder: downs.0 .. downs.{L-3}; downs.{L-2} is skipped in favour of the bottleneck.
  for (size_t i = 1; i + 1 < levels; ++i) {
    s << "    s" << i << " = self.dc(self.pool(s" << i - 1 << "), "
      << DoubleConvArgs("downs." + std::to_string(i - 1)) << ")\n";
  }
  s << "    d = self.dc(self.pool(s" << levels - 2 << "), " << DoubleConvArgs("bottleneck")
    << ")\n";
  for (size_t i = 0; i + 1 < levels; ++i) {
    const std::string up = "self.ups__" + std::to_string(i);
    s << "    d = self.dc(self.up(d, s" << levels - 2 - i << ", " << up << "__weight, " << up
      << "__bias), " << DoubleConvArgs("decoder_blocks." + std::to_string(i)) << ")\n";
  }
  s << "    y = torch.conv2d(d, self.final_conv__weight, self.final_conv__bias, [1, 1], [0, 0], "
       "[1, 1], 1)\n";
  s << "    return self.fit(y, x)\n";
  return s.str();
}

Result<NetworkSpec> BuildUnet(const UnetConfig& config) {
  SEGHUB_ASSIGN_OR_RETURN(NetworkSpec net,
                          AssembleNetwork("unet", UnetParams(config), UnetSource(config)));
  net.ignored_prefixes = {"deep_outputs."};
  const int64_t pools = static_cast<int64_t>(config.features.size()) - 1;
  const int64_t channels = config.in_channels;
  net.check_input = PooledInputCheck("a U-Net", channels, pools);
  net.in_channels = static_cast<int>(config.in_channels);
  net.out_channels = static_cast<int>(config.out_channels);
  return net;
}

Result<NetworkSpec> BuildUnet(const nlohmann::json& arch_params) {
  SEGHUB_ASSIGN_OR_RETURN(UnetConfig config, ParseUnetConfig(arch_params));
  return BuildUnet(config);
}

}  // namespace seghub::models
