#include "models/hrnet.h"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "models/script_util.h"

namespace seghub::models {
namespace {

using script::Add;
using script::AddNorm;
using script::Attrs;

constexpr int64_t kExpansion = 4;  // Bottleneck output width = 4 x planes

std::string Str(int64_t v) { return std::to_string(v); }
std::string X(int64_t b) { return "x" + Str(b); }

// A conv (no bias) followed by an InstanceNorm: `<p>.0.weight`, `<p>.1.weight/bias`.
void AddConvNorm(std::vector<ParamSpec>* params, const std::string& p, int64_t cout, int64_t cin,
                 int64_t k) {
  Add(params, p + ".0.weight", {cout, cin, k, k});
  AddNorm(params, p + ".1", cout);
}
std::string ConvNormArgs(const std::string& p) {
  return Attrs(p, {"0.weight", "1.weight", "1.bias"});
}

void AddBottleneck(std::vector<ParamSpec>* params, const std::string& p, int64_t cin,
                   int64_t planes) {
  Add(params, p + ".conv1.weight", {planes, cin, 1, 1});
  AddNorm(params, p + ".bn1", planes);
  Add(params, p + ".conv2.weight", {planes, planes, 3, 3});
  AddNorm(params, p + ".bn2", planes);
  Add(params, p + ".conv3.weight", {planes * kExpansion, planes, 1, 1});
  AddNorm(params, p + ".bn3", planes * kExpansion);
  if (cin != planes * kExpansion)
    AddConvNorm(params, p + ".downsample", planes * kExpansion, cin, 1);
}

void AddBasicBlock(std::vector<ParamSpec>* params, const std::string& p, int64_t c) {
  Add(params, p + ".conv1.weight", {c, c, 3, 3});
  AddNorm(params, p + ".bn1", c);
  Add(params, p + ".conv2.weight", {c, c, 3, 3});
  AddNorm(params, p + ".bn2", c);
}

// Existing branches whose width changes get a stride-1 conv; each new branch a chain of stride-2
// convs from the previous stage's last output (one link per added level).
void AddTransition(std::vector<ParamSpec>* params, const std::string& p,
                   const std::vector<int64_t>& pre, const std::vector<int64_t>& cur) {
  const size_t np = pre.size();
  for (size_t i = 0; i < cur.size(); ++i) {
    if (i < np) {
      if (cur[i] != pre[i]) AddConvNorm(params, p + "." + Str(i), cur[i], pre[i], 3);
      continue;
    }
    for (size_t j = 0; j <= i - np; ++j) {
      const int64_t out = j == i - np ? cur[i] : pre.back();
      AddConvNorm(params, p + "." + Str(i) + "." + Str(j), out, pre.back(), 3);
    }
  }
}

void AddModule(std::vector<ParamSpec>* params, const std::string& p, const std::vector<int64_t>& c,
               int64_t blocks) {
  const int64_t nb = static_cast<int64_t>(c.size());
  for (int64_t b = 0; b < nb; ++b) {
    for (int64_t k = 0; k < blocks; ++k) {
      AddBasicBlock(params, p + ".branches." + Str(b) + "." + Str(k), c[b]);
    }
  }
  for (int64_t i = 0; i < nb; ++i) {
    for (int64_t j = 0; j < nb; ++j) {
      const std::string f = p + ".fuse_layers." + Str(i) + "." + Str(j);
      if (j > i) AddConvNorm(params, f, c[i], c[j], 1);
      for (int64_t t = 0; j < i && t < i - j; ++t) {
        AddConvNorm(params, f + "." + Str(t), t == i - j - 1 ? c[i] : c[j], c[j], 3);
      }
    }
  }
}

std::vector<int64_t> FirstWidths(const HrnetConfig& c, size_t n) {
  return {c.widths.begin(), c.widths.begin() + static_cast<std::ptrdiff_t>(n)};
}

constexpr const char* kHelpers = R"TS(
def bb(self, x: Tensor, c1: Tensor, g1: Tensor, b1: Tensor, c2: Tensor, g2: Tensor, b2: Tensor) -> Tensor:
    t = self.cn(self.cnr(x, c1, g1, b1, 1, 1), c2, g2, b2, 1, 1)
    return torch.relu(t + x)

def bott(self, x: Tensor, r: Tensor, c1: Tensor, g1: Tensor, b1: Tensor, c2: Tensor, g2: Tensor, b2: Tensor, c3: Tensor, g3: Tensor, b3: Tensor) -> Tensor:
    t = self.cnr(self.cnr(x, c1, g1, b1, 1, 0), c2, g2, b2, 1, 1)
    return torch.relu(self.cn(t, c3, g3, b3, 1, 0) + r)

def up(self, x: Tensor, ref: Tensor) -> Tensor:
    return torch.upsample_bilinear2d(x, [ref.size(2), ref.size(3)], True, None, None)
)TS";

void StemLines(const HrnetConfig& c, std::ostream& s) {
  s << "    x = self.cnr(x, " << Attrs("", {"conv1.weight", "bn1.weight", "bn1.bias"})
    << ", 2, 1)\n";
  s << "    x = self.cnr(x, " << Attrs("", {"conv2.weight", "bn2.weight", "bn2.bias"})
    << ", 2, 1)\n";
  for (int64_t b = 0; b < c.stage1_blocks; ++b) {
    const std::string p = "layer1." + Str(b);
    const bool down =
        (b == 0 ? c.stem_width : c.stem_width * kExpansion) != c.stem_width * kExpansion;
    const std::string r = down ? "self.cn(x, " + ConvNormArgs(p + ".downsample") + ", 1, 0)" : "x";
    s << "    x = self.bott(x, " << r << ", "
      << Attrs(p, {"conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight",
                   "bn2.bias", "conv3.weight", "bn3.weight", "bn3.bias"})
      << ")\n";
  }
}

// Inputs of the next stage. `src(i)` names the previous stage's output i. New branches are
// computed first so that they read the last previous output before it may be reassigned.
void TransitionLines(const std::string& p, const std::vector<int64_t>& pre,
                     const std::vector<int64_t>& cur, bool from_stem, std::ostream& s) {
  const int64_t np = static_cast<int64_t>(pre.size());
  auto src = [&](int64_t i) { return from_stem ? std::string("x") : X(i); };
  for (int64_t i = static_cast<int64_t>(cur.size()) - 1; i >= 0; --i) {
    if (i < np) {
      if (cur[i] != pre[i]) {
        s << "    " << X(i) << " = self.cnr(" << src(i) << ", " << ConvNormArgs(p + "." + Str(i))
          << ", 1, 1)\n";
      } else if (from_stem) {
        s << "    " << X(i) << " = x\n";
      }
      continue;
    }
    std::string e = src(np - 1);
    for (int64_t j = 0; j <= i - np; ++j) {
      e = "self.cnr(" + e + ", " + ConvNormArgs(p + "." + Str(i) + "." + Str(j)) + ", 2, 1)";
    }
    s << "    " << X(i) << " = " << e << "\n";
  }
}

// T_{i,j}(x_j) of architectures.md §3.3.
std::string FuseTerm(const std::string& p, int64_t i, int64_t j) {
  if (j == i) return X(j);
  const std::string f = p + ".fuse_layers." + Str(i) + "." + Str(j);
  if (j > i) return "self.up(self.cn(" + X(j) + ", " + ConvNormArgs(f) + ", 1, 0), " + X(i) + ")";
  std::string e = X(j);
  for (int64_t t = 0; t < i - j; ++t) {
    e = std::string(t + 1 < i - j ? "self.cnr(" : "self.cn(") + e + ", " +
        ConvNormArgs(f + "." + Str(t)) + ", 2, 1)";
  }
  return e;
}

void ModuleLines(const std::string& p, int64_t branches, int64_t blocks, std::ostream& s) {
  for (int64_t b = 0; b < branches; ++b) {
    for (int64_t k = 0; k < blocks; ++k) {
      s << "    " << X(b) << " = self.bb(" << X(b) << ", "
        << Attrs(
               p + ".branches." + Str(b) + "." + Str(k),
               {"conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias"})
        << ")\n";
    }
  }
  for (int64_t i = 0; i < branches; ++i) {
    s << "    y" << i << " = torch.relu(" << FuseTerm(p, i, 0);
    for (int64_t j = 1; j < branches; ++j) s << " + " << FuseTerm(p, i, j);
    s << ")\n";
  }
  for (int64_t i = 0; i < branches; ++i) s << "    " << X(i) << " = y" << i << "\n";
}

void HeadLines(int64_t branches, std::ostream& s) {
  s << "    z = torch.cat([x0";
  for (int64_t b = 1; b < branches; ++b) s << ", self.up(" << X(b) << ", x0)";
  s << "], 1)\n";
  s << "    z = torch.relu(self.inorm(torch.conv2d(z, "
    << Attrs("last_layer", {"0.weight", "0.bias"}) << ", [1, 1], [0, 0], [1, 1], 1), "
    << Attrs("last_layer", {"1.weight", "1.bias"}) << "))\n";
  s << "    z = torch.conv2d(z, " << Attrs("last_layer", {"3.weight", "3.bias"})
    << ", [1, 1], [0, 0], [1, 1], 1)\n";
  s << "    return torch.upsample_bilinear2d(z, [4 * z.size(2), 4 * z.size(3)], True, None, "
       "None)\n";
}

}  // namespace

Result<HrnetConfig> ParseHrnetConfig(const nlohmann::json& j) {
  HrnetConfig c;
  if (!j.is_object()) return InvalidArgument("hrnet arch_params must be an object");
  try {
    if (j.contains("widths")) c.widths = j.at("widths").get<std::vector<int64_t>>();
    if (j.contains("modules")) c.modules = j.at("modules").get<std::vector<int64_t>>();
    if (j.contains("blocks")) c.blocks = j.at("blocks").get<int64_t>();
    if (j.contains("stem_width")) c.stem_width = j.at("stem_width").get<int64_t>();
    if (j.contains("stage1_blocks")) c.stage1_blocks = j.at("stage1_blocks").get<int64_t>();
    if (j.contains("in_channels")) c.in_channels = j.at("in_channels").get<int64_t>();
    if (j.contains("out_channels")) c.out_channels = j.at("out_channels").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("hrnet arch_params: ") + e.what());
  }
  if (c.widths.size() < 2 || c.widths.size() > 6) {
    return InvalidArgument("hrnet widths needs 2 to 6 branches");
  }
  if (c.modules.size() != c.widths.size() - 1) {
    return InvalidArgument("hrnet modules needs one entry per stage after the first (" +
                           Str(static_cast<int64_t>(c.widths.size()) - 1) + ")");
  }
  const auto positive = [](const std::vector<int64_t>& v) {
    return std::all_of(v.begin(), v.end(), [](int64_t x) { return x > 0; });
  };
  if (!positive(c.widths) || !positive(c.modules) || c.blocks <= 0 || c.stem_width <= 0 ||
      c.stage1_blocks <= 0 || c.in_channels <= 0 || c.out_channels <= 0) {
    return InvalidArgument("hrnet widths, counts and channels must be positive");
  }
  return c;
}

std::vector<ParamSpec> HrnetParams(const HrnetConfig& c) {
  std::vector<ParamSpec> params;
  Add(&params, "conv1.weight", {c.stem_width, c.in_channels, 3, 3});
  AddNorm(&params, "bn1", c.stem_width);
  Add(&params, "conv2.weight", {c.stem_width, c.stem_width, 3, 3});
  AddNorm(&params, "bn2", c.stem_width);
  for (int64_t b = 0; b < c.stage1_blocks; ++b) {
    AddBottleneck(&params, "layer1." + Str(b), b == 0 ? c.stem_width : c.stem_width * kExpansion,
                  c.stem_width);
  }
  std::vector<int64_t> pre = {c.stem_width * kExpansion};
  for (size_t s = 0; s < c.modules.size(); ++s) {
    const std::vector<int64_t> cur = FirstWidths(c, s + 2);
    AddTransition(&params, "transition" + Str(s + 1), pre, cur);
    for (int64_t m = 0; m < c.modules[s]; ++m) {
      AddModule(&params, "stage" + Str(s + 2) + "." + Str(m), cur, c.blocks);
    }
    pre = cur;
  }
  const int64_t total = std::accumulate(c.widths.begin(), c.widths.end(), int64_t{0});
  Add(&params, "last_layer.0.weight", {total, total, 1, 1});
  Add(&params, "last_layer.0.bias", {total});
  AddNorm(&params, "last_layer.1", total);
  Add(&params, "last_layer.3.weight", {c.out_channels, total, 1, 1});
  Add(&params, "last_layer.3.bias", {c.out_channels});
  return params;
}

std::string HrnetSource(const HrnetConfig& c) {
  std::ostringstream s;
  s << script::kNormHelpers << kHelpers << "\ndef forward(self, x: Tensor) -> Tensor:\n";
  StemLines(c, s);
  std::vector<int64_t> pre = {c.stem_width * kExpansion};
  for (size_t st = 0; st < c.modules.size(); ++st) {
    const std::vector<int64_t> cur = FirstWidths(c, st + 2);
    TransitionLines("transition" + Str(st + 1), pre, cur, st == 0, s);
    for (int64_t m = 0; m < c.modules[st]; ++m) {
      ModuleLines("stage" + Str(st + 2) + "." + Str(m), static_cast<int64_t>(cur.size()), c.blocks,
                  s);
    }
    pre = cur;
  }
  HeadLines(static_cast<int64_t>(c.widths.size()), s);
  return s.str();
}

int64_t HrnetOutputSize(int64_t n) { return 4 * ((((n + 1) / 2) + 1) / 2); }

Result<NetworkSpec> BuildHrnet(const HrnetConfig& config) {
  SEGHUB_ASSIGN_OR_RETURN(NetworkSpec net,
                          AssembleNetwork("hrnet", HrnetParams(config), HrnetSource(config)));
  const int64_t halvings = static_cast<int64_t>(config.widths.size()) + 1;
  const int64_t channels = config.in_channels;
  net.check_input = [halvings, channels](const std::vector<int64_t>& shape) -> Status {
    if (shape.size() != 4 || shape[1] != channels) {
      return InvalidArgument("hrnet expects [N, " + Str(channels) + ", H, W]");
    }
    // Each stride-2 conv maps n to ceil(n / 2); the coarsest branch's InstanceNorm needs at least
    // 2 pixels.
    int64_t h = shape[2], w = shape[3];
    for (int64_t i = 0; i < halvings; ++i) {
      h = (h + 1) / 2;
      w = (w + 1) / 2;
    }
    if (shape[0] < 1 || shape[2] < 1 || shape[3] < 1 || h * w < 2) {
      return InvalidArgument("input " + Str(shape[2]) + "x" + Str(shape[3]) +
                             " is too small for HRNet (coarsest branch 1x1)");
    }
    return Status::Ok();
  };
  net.in_channels = static_cast<int>(config.in_channels);
  net.out_channels = static_cast<int>(config.out_channels);
  return net;
}

Result<NetworkSpec> BuildHrnet(const nlohmann::json& arch_params) {
  SEGHUB_ASSIGN_OR_RETURN(HrnetConfig config, ParseHrnetConfig(arch_params));
  return BuildHrnet(config);
}

}  // namespace seghub::models
