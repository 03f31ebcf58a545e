// Stain separation for bright-field histology (H&E and similar): a one-channel nuclei model sees
// the haematoxylin (nuclear stain) density instead of the grey level.
//
// Why: in an H&E photo grey level cannot tell purple nuclei from pink cytoplasm, both darker than
// the glass, so after inversion the cytoplasm looks as bright as the nuclei. Colour
// deconvolution (Ruifrok & Johnston, Anal. Quant. Cytol. Histol. 23:291, 2001) turns RGB into
// optical densities per stain: haematoxylin is high on nuclei and low on cytoplasm and glass, so
// nuclei come out bright on a dark background, the way fluorescence shows them.
//
// Pure functions; thread-safe.
#ifndef SEGHUB_IMAGING_STAIN_H_
#define SEGHUB_IMAGING_STAIN_H_

#include <opencv2/core.hpp>

#include "common/status.h"

namespace seghub::imaging {

// True when `rgb` (3 channels, RGB order, 8- or 16-bit) looks like a stained bright-field photo:
// a bright background (median grey level above half the range) and colour (mean chroma, max - min
// channel over the brightest channel's range, at least 0.06). Grey images stored as RGB, dark
// fluorescence backgrounds and unstained bright field are not.
bool LooksStained(const cv::Mat& rgb);

// Haematoxylin optical density of `rgb` (3 channels, RGB order, 8- or 16-bit) as CV_32FC1, >= 0:
// per pixel OD = -ln(I / I0) of each channel, I0 the channel's 99th percentile (the glass; I
// clamped to [1, I0]), unmixed with the standard H&E(-DAB) stain vectors. InvalidArgument on
// other types.
Result<cv::Mat> HaematoxylinDensity(const cv::Mat& rgb);

// What a model with `channels` input channels is fed: with `stain_auto`, one channel and a stained
// photo, HaematoxylinDensity; else ToChannels (imaging/normalize.h). `pixels` in RGB order.
Result<cv::Mat> ModelChannels(const cv::Mat& pixels, int channels, bool stain_auto);

}  // namespace seghub::imaging

#endif  // SEGHUB_IMAGING_STAIN_H_
