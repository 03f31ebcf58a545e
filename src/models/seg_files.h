// Labelled image folders for segmentation training: DIR/images/<stem>.* paired with
// DIR/<labels>/<stem>.* by stem, in sorted order, and the rule that holds every n-th pair out
// for validation. Shared by the stretch (seg_training) and crop (seg_crops) datasets so both
// split a folder the same way. Pure functions; thread-safe.
#ifndef SEGHUB_MODELS_SEG_FILES_H_
#define SEGHUB_MODELS_SEG_FILES_H_

#include <cstddef>
#include <filesystem>
#include <vector>

#include "common/status.h"

namespace seghub::models {

struct LabelledFile {
  std::filesystem::path image;
  std::filesystem::path label;
};

// PNG, JPEG, TIFF or BMP by extension (any case).
bool IsImageFile(const std::filesystem::path& p);

// Every image in `images` (sorted by path) with the file of the same stem in `labels`; an image
// without one is an error naming it. Both folders must exist.
Result<std::vector<LabelledFile>> ListLabelledFiles(const std::filesystem::path& images,
                                                    const std::filesystem::path& labels);

// Pair i (0-based, in ListLabelledFiles order) is held out when (i + 1) is a multiple of
// `every` (at least 2).
inline bool IsHeldOut(size_t i, int every) { return (i + 1) % (every < 2 ? 2 : every) == 0; }

}  // namespace seghub::models

#endif  // SEGHUB_MODELS_SEG_FILES_H_
