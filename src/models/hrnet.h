// The Hub's HRNetV2 (`hrnet`, W48 with InstanceNorm), per architectures.md §3.
//
// Stem (two 3x3 stride-2 conv-IN-ReLU), stage 1 of Bottleneck blocks (expansion 4), then stages of
// parallel branches (widths W, 2W, 4W, 8W) of BasicBlocks joined by fuse layers (1x1 conv-IN +
// bilinear align_corners=True upsampling from coarser branches, chains of stride-2 3x3 conv-IN
// from finer ones, summed in branch order, ReLU). Head: every branch upsampled to the finest,
// concatenated, 1x1 conv (bias) - IN - ReLU - 1x1 conv (bias), and a final x4 bilinear
// (align_corners=True) upsampling. The output is 4*ceil(ceil(H/2)/2) high, not H. All "bn" layers
// are affine InstanceNorms.
#ifndef SEGHUB_MODELS_HRNET_H_
#define SEGHUB_MODELS_HRNET_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "models/network.h"

namespace seghub::models {

struct HrnetConfig {
  std::vector<int64_t> widths = {48, 96, 192, 384};  // branch widths; stage s has s branches
  std::vector<int64_t> modules = {1, 4, 3};          // high-resolution modules in stages 2..
  int64_t blocks = 4;                                // BasicBlocks per branch in every module
  int64_t stem_width = 64;    // stem convs and Bottleneck planes (stage-1 output: 4x this)
  int64_t stage1_blocks = 4;  // Bottleneck blocks in layer1
  int64_t in_channels = 3;
  int64_t out_channels = 1;  // n_class
};

// arch_params: {"widths": [..], "modules": [..], "blocks": 4, "stem_width": 64,
// "stage1_blocks": 4, "in_channels": 3, "out_channels": 1}; absent keys keep the production
// (W48) defaults. `modules` needs one entry per stage after the first (widths.size() - 1).
Result<HrnetConfig> ParseHrnetConfig(const nlohmann::json& arch_params);

// Parameters in the Hub's state_dict order, and the TorchScript source of the forward pass.
std::vector<ParamSpec> HrnetParams(const HrnetConfig& config);
std::string HrnetSource(const HrnetConfig& config);

// Output size along one axis: 4 * ceil(ceil(n / 2) / 2).
int64_t HrnetOutputSize(int64_t n);

Result<NetworkSpec> BuildHrnet(const HrnetConfig& config);
Result<NetworkSpec> BuildHrnet(const nlohmann::json& arch_params);

}  // namespace seghub::models

#endif  // SEGHUB_MODELS_HRNET_H_
