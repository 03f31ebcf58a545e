// Reading PyTorch `torch.save` checkpoints (.pth/.pt) without Python, and one entry point that
// loads any supported weights file into a network.
//
// A checkpoint is a ZIP archive (`<root>/data.pkl`, `<root>/data/<key>` raw storages,
// `<root>/version`), read with LibTorch's own PyTorchStreamReader. The pickle is parsed by our
// tolerant reader (pickle_reader.h) because LibTorch 1.13's unpickler turns every OrderedDict into
// None and rejects unknown classes such as argparse.Namespace.
#ifndef SEGHUB_MODELS_CHECKPOINT_H_
#define SEGHUB_MODELS_CHECKPOINT_H_

#include <ATen/ATen.h>

#include <filesystem>
#include <map>
#include <string>

#include "common/status.h"
#include "models/network.h"
#include "models/pickle_reader.h"

namespace seghub::models {

// The state dict of a torch.save file, with the Hub's unwrap rule (architectures.md §5.1): a dict
// holding `model_state_dict` (preferred) or `state_dict` yields that value, otherwise the object
// itself is the state dict. Non-tensor entries are dropped; a `module.` prefix (DataParallel) on
// every key is stripped. Tensors are contiguous CPU copies. kNotFound for a missing file,
// kInvalidArgument for a corrupt, truncated or tensor-less one.
Result<std::map<std::string, at::Tensor>> ReadTorchCheckpoint(const std::filesystem::path& path);

// The unwrap rule above applied to an already unpickled object (exposed for tests).
Result<std::map<std::string, at::Tensor>> StateDictFromPickle(const PyValue& top);

// Loads weights by extension: `.safetensors`, or `.pth`/`.pt`/`.ckpt` (torch.save checkpoint),
// then LoadStateDict's strict name/shape check (after GrowOutputs when `grow_outputs`). Errors
// name the file.
Status LoadWeightsFile(NetworkSpec* net, const std::filesystem::path& path,
                       bool grow_outputs = false);

}  // namespace seghub::models

#endif  // SEGHUB_MODELS_CHECKPOINT_H_
