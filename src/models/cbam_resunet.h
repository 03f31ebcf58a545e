// The Hub's ResUNetCBAM (`cbam_resunet`), per architectures.md §2.
//
// Residual blocks (conv-IN-ReLU-conv-IN, plus a 1x1 conv-IN shortcut when the width changes,
// ReLU after the sum) each followed by CBAM (channel attention with a shared MLP of width
// max(C/16, 8), then 7x7 spatial attention). Every encoder block is followed by a max-pool, a
// two-block bottleneck at twice the deepest width, and a decoder of transposed conv -> bilinear
// size fix (align_corners=False, odd sizes only) -> attention gate on the skip -> residual block
// on [gated skip, upsampled]. Head: 3x3 conv-IN-ReLU to F0/2, then a 1x1 conv with bias.
#ifndef SEGHUB_MODELS_CBAM_RESUNET_H_
#define SEGHUB_MODELS_CBAM_RESUNET_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "models/network.h"

namespace seghub::models {

struct CbamResUnetConfig {
  std::vector<int64_t> features = {64, 128, 256, 512};  // production widths
  int64_t in_channels = 3;
  int64_t out_channels = 1;
};

// arch_params: {"features": [..], "in_channels": 3, "out_channels": 1}; absent keys keep the
// production defaults. Any positive widths work (the test vectors use [8, 16, 24, 40]), but the
// head needs F0 >= 2 and the attention gates F >= 2.
Result<CbamResUnetConfig> ParseCbamResUnetConfig(const nlohmann::json& arch_params);

// The Hub re-detects the widths from a checkpoint (`downs.{i}.conv1.weight` dim 0, i = 0, 1, ...
// while present, at most 6); empty if the state dict has none.
std::vector<int64_t> CbamResUnetFeaturesFromStateDict(
    const std::map<std::string, at::Tensor>& state_dict);

// Parameters in the Hub's state_dict order, and the TorchScript source of the forward pass.
std::vector<ParamSpec> CbamResUnetParams(const CbamResUnetConfig& config);
std::string CbamResUnetSource(const CbamResUnetConfig& config);

Result<NetworkSpec> BuildCbamResUnet(const CbamResUnetConfig& config);
Result<NetworkSpec> BuildCbamResUnet(const nlohmann::json& arch_params);

}  // namespace seghub::models

#endif  // SEGHUB_MODELS_CBAM_RESUNET_H_
