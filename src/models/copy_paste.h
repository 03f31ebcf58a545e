// Copy-paste augmentation for crop training (models/seg_crops.h): whole labelled objects from the
// training images are pasted into a crop, most of them against an object already there, so the
// net sees many more touching pairs than the images hold.
//
// Why: the nuclei model's instance errors are mostly touching nuclei that come out as one object,
// and crowded fluorescence images (DSB2018) have far more of them than U2OS's training images.
// Pasting real objects (Ghiasi et al., "Simple Copy-Paste", CVPR 2021) just against others adds
// such pairs with real appearance; the target and loss weights are then rebuilt from the pasted
// instance ids, so a seam separates a pasted object from its neighbour like any labelled pair.
//
// Pure functions of their inputs and the RNG state; thread-compatible.
#ifndef SEGHUB_MODELS_COPY_PASTE_H_
#define SEGHUB_MODELS_COPY_PASTE_H_

#include <opencv2/core.hpp>
#include <span>
#include <vector>

#include "common/status.h"

namespace seghub::models {

struct PasteOptions {
  int max_objects = 0;             // per crop, uniformly 0..max_objects (0 = off)
  double touch_probability = 0.7;  // else the object lands anywhere in the crop
  int min_area = 30;               // px of the source image: smaller objects are not pasted
};

// One object of a training image that can be pasted: its image's index, id and bounding box.
struct PasteObject {
  int image = 0;
  int id = 0;
  cv::Rect box;
};

// The objects of `ids` (CV_32SC1 instance ids) with at least `min_area` px that do not touch the
// image border (so they are whole).
std::vector<PasteObject> FindPasteObjects(const cv::Mat& ids, int image, int min_area);

// Pastes 0..max_objects objects drawn from `bank` into the crop. `units[i]` and `ids_of[i]` are
// image i's unit-range pixels (CV_32FC(n), n = crop channels) and instance ids; `scale` is the
// crop's zoom (crop px per source px), applied to the pasted objects too. Each object is flipped
// and rotated at random, placed where its mask covers no object (so no object is cut into
// fragments), blended in with a 1 px soft edge and given a new id in `ids`; an object that finds
// no free place is dropped. Draws from `rng` only when max_objects > 0.
Status PasteObjects(const PasteOptions& options, std::span<const PasteObject> bank,
                    std::span<const cv::Mat> units, std::span<const cv::Mat> ids_of, double scale,
                    cv::RNG* rng, cv::Mat* crop, cv::Mat* ids);

}  // namespace seghub::models

#endif  // SEGHUB_MODELS_COPY_PASTE_H_
