// U-Net1D with self-attention at the bottleneck: the partial-discharge segmentation network of
// the original PD Inference API, defined in C++ as generated TorchScript (see network.h).
//
// Encoder: four levels of widths w, 2w, 4w, 8w (w = base_width, 64 in the original), each two
// [conv1d k3 (dilation 1, 2, 4, 8 by level, "same" padding, no bias) -> BatchNorm -> ReLU], with
// a max-pool (2) after every level. Bottleneck: the same block at 16w (dilation 1) followed by
// SAGAN-style self-attention over the time axis (query/key 1x1 convs to 16w/8 channels, value
// 1x1 conv, softmax(q^T k / sqrt(d)), residual scaled by a learnt gamma). Decoder: per level a
// transposed conv (k2, s2) halving the width, concatenation [skip, upsampled], two
// conv-BN-ReLU. Head: 1x1 conv to one channel. The network returns logits; the pipeline applies
// the sigmoid (model.json: output.activation = "sigmoid").
//
// BatchNorm: `forward` (what the engine runs, frozen) uses the running statistics; the method
// kUnet1dTrainMethod normalises with batch statistics and updates running_mean/running_var in
// place (momentum 0.1), like nn.BatchNorm1d in train mode. A method rather than the module's
// `training` flag because AssembleNetwork's modules have no `training` attribute. The running
// statistics are registered like parameters, under PyTorch's names, so they travel in the
// safetensors file; trainers must not optimise them (IsUnet1dStatistic()).
//
// Input [N, 1, L] -> output [N, 1, L]; L must be a positive multiple of 16 (four poolings).
#ifndef SEGHUB_MODELS_UNET1D_H_
#define SEGHUB_MODELS_UNET1D_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "models/network.h"

namespace seghub::models {

struct Unet1dConfig {
  int64_t base_width = 64;  // encoder widths base, 2x, 4x, 8x; bottleneck 16x
  int64_t in_channels = 1;
  int64_t out_channels = 1;
};

// arch_params: {"base_width": 64, "in_channels": 1, "out_channels": 1}; absent keys keep the
// original's values. All must be positive (query/key get 16 * base_width / 8 = 2 * base_width
// channels).
Result<Unet1dConfig> ParseUnet1dConfig(const nlohmann::json& arch_params);

// Parameters (and BatchNorm running statistics) in state_dict order, and the TorchScript source.
std::vector<ParamSpec> Unet1dParams(const Unet1dConfig& config);
std::string Unet1dSource(const Unet1dConfig& config);

// Builds the module with deterministic random weights (RandomInit seed 0) and BatchNorm running
// statistics reset to mean 0 / variance 1. Thread-compatible like every builder.
Result<NetworkSpec> BuildUnet1d(const Unet1dConfig& config);
Result<NetworkSpec> BuildUnet1d(const nlohmann::json& arch_params);

// True for the BatchNorm running statistics (not trainable by gradient).
bool IsUnet1dStatistic(std::string_view hub_name);

// Sets every running_mean to 0 and running_var to 1: RandomInit() fills all rank-1 tensors like
// biases, which would leave negative variances.
void ResetUnet1dStatistics(NetworkSpec* net);

// The training-mode forward: module.get_method(kUnet1dTrainMethod)({x}).
inline constexpr const char* kUnet1dTrainMethod = "forward_train";

// Input length granularity: L % kUnet1dLengthMultiple == 0.
inline constexpr int64_t kUnet1dLengthMultiple = 16;

}  // namespace seghub::models

#endif  // SEGHUB_MODELS_UNET1D_H_
