// The Hub's U-Net (`unet_spherohq`), per architectures.md §1.
//
// DoubleConv blocks (3x3 conv without bias, affine InstanceNorm eps 1e-5, ReLU, twice), max-pool
// encoder, transposed-conv decoder with [skip, upsampled] concatenation and a bilinear
// (align_corners=False) size fix when a pool floored an odd size, 1x1 head with bias. `downs.{L-2}`
// is registered (so checkpoints load) but never executed: the bottleneck runs instead.
#ifndef SEGHUB_MODELS_UNET_H_
#define SEGHUB_MODELS_UNET_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "models/network.h"

namespace seghub::models {

struct UnetConfig {
  std::vector<int64_t> features = {64, 128, 256, 512, 1024};  // production widths
  int64_t in_channels = 3;
  int64_t out_channels = 1;
};

// arch_params: {"features": [..], "in_channels": 3, "out_channels": 1}; absent keys keep the
// production defaults. Features must double at every level (the decoder assumes it).
Result<UnetConfig> ParseUnetConfig(const nlohmann::json& arch_params);

// Parameters in the Hub's state_dict order, and the TorchScript source of the forward pass.
std::vector<ParamSpec> UnetParams(const UnetConfig& config);
std::string UnetSource(const UnetConfig& config);

Result<NetworkSpec> BuildUnet(const UnetConfig& config);
Result<NetworkSpec> BuildUnet(const nlohmann::json& arch_params);

}  // namespace seghub::models

#endif  // SEGHUB_MODELS_UNET_H_
