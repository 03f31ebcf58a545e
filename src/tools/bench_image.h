// The image `seghub bench-segment` uploads, and the model inputs the pipeline makes from it.
#ifndef SEGHUB_TOOLS_BENCH_IMAGE_H_
#define SEGHUB_TOOLS_BENCH_IMAGE_H_

#include <string>
#include <vector>

#include "common/status.h"
#include "engine/model_config.h"
#include "engine/tensor.h"

namespace seghub::tools {

struct BenchImage {
  std::string bytes;  // encoded, exactly what every client uploads
  std::string source;
  int width = 0, height = 0;
};

// Grey, gently shaded background with sensor-like noise and dark discs (spheroid-like), as PNG.
BenchImage SyntheticImage(int size);

// `path` empty: SyntheticImage(size). Else the file, resized to size x size and re-encoded as
// `encoding` ("png" or "jpeg") when its size differs (size 0 keeps it as it is).
Result<BenchImage> LoadBenchImage(const std::string& path, int size,
                                  const std::string& encoding = "png");

// Exactly the tensors the pipeline would submit for this image (InputPlan), so the raw engine
// baseline and the end-to-end paths run the same shapes.
Result<std::vector<engine::Tensor>> PrepareInputs(const BenchImage& image,
                                                  const engine::ModelConfig& config);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_BENCH_IMAGE_H_
