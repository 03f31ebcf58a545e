#include "models/augment.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace seghub::models {
namespace {

// Zooms both by `scale` about a random point, keeping the size: crop when enlarged, reflect-pad
// when shrunk (reflection keeps the mask consistent with the image, unlike a constant border).
void Scale(double scale, cv::RNG* rng, cv::Mat* image, cv::Mat* mask) {
  const cv::Size size = image->size();
  const cv::Size scaled(std::max(8, static_cast<int>(std::lround(size.width * scale))),
                        std::max(8, static_cast<int>(std::lround(size.height * scale))));
  cv::Mat img, msk;
  cv::resize(*image, img, scaled, 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  cv::resize(*mask, msk, scaled, 0, 0, cv::INTER_NEAREST);
  if (scaled.width < size.width || scaled.height < size.height) {
    const int pad_x = std::max(0, size.width - scaled.width);
    const int pad_y = std::max(0, size.height - scaled.height);
    const int left = rng->uniform(0, pad_x + 1);
    const int top = rng->uniform(0, pad_y + 1);
    // BORDER_REFLECT_101 needs the padding smaller than the image; zoom-out is at most ~1/1.33.
    cv::copyMakeBorder(img, img, top, pad_y - top, left, pad_x - left, cv::BORDER_REFLECT_101);
    cv::copyMakeBorder(msk, msk, top, pad_y - top, left, pad_x - left, cv::BORDER_REFLECT_101);
  }
  const int x = rng->uniform(0, img.cols - size.width + 1);
  const int y = rng->uniform(0, img.rows - size.height + 1);
  const cv::Rect roi(x, y, size.width, size.height);
  *image = img(roi).clone();
  *mask = msk(roi).clone();
}

// Brightness/contrast/gamma through a lookup table (one pass over the pixels).
void Photometric(const AugmentOptions& o, cv::RNG* rng, cv::Mat* image) {
  const double brightness = rng->uniform(-o.brightness, o.brightness);
  const double contrast = 1.0 + rng->uniform(-o.contrast, o.contrast);
  const double gamma = std::exp(rng->uniform(-o.gamma, o.gamma));
  cv::Mat lut(1, 256, CV_8U);
  for (int v = 0; v < 256; ++v) {
    double u = std::pow(v / 255.0, gamma);
    u = (u - 0.5) * contrast + 0.5 + brightness;
    lut.at<uint8_t>(v) = cv::saturate_cast<uint8_t>(u * 255.0);
  }
  cv::LUT(*image, lut, *image);
}

}  // namespace

Status AugmentPair(const AugmentOptions& o, uint64_t seed, cv::Mat* image, cv::Mat* mask) {
  if (image->depth() != CV_8U || (image->channels() != 1 && image->channels() != 3)) {
    return InvalidArgument("augment: image must be CV_8UC1 or CV_8UC3");
  }
  if (mask->type() != CV_8UC1 || mask->size() != image->size()) {
    return InvalidArgument("augment: mask must be CV_8UC1 of the image's size");
  }
  if (o.min_scale <= 0 || o.max_scale < o.min_scale) {
    return InvalidArgument("augment: need 0 < min_scale <= max_scale");
  }
  cv::RNG rng(seed);
  if (o.flips) {
    const bool h = rng.uniform(0, 2) == 1;
    const bool v = rng.uniform(0, 2) == 1;
    if (h && v) {
      cv::flip(*image, *image, -1);
      cv::flip(*mask, *mask, -1);
    } else if (h || v) {
      cv::flip(*image, *image, h ? 1 : 0);
      cv::flip(*mask, *mask, h ? 1 : 0);
    }
  }
  if (o.rotations) {
    const int quarter = rng.uniform(0, 4);
    if (quarter > 0) {
      const int code = quarter == 1   ? cv::ROTATE_90_CLOCKWISE
                       : quarter == 2 ? cv::ROTATE_180
                                      : cv::ROTATE_90_COUNTERCLOCKWISE;
      cv::rotate(*image, *image, code);
      cv::rotate(*mask, *mask, code);
    }
  }
  if (o.max_scale > o.min_scale) {
    const double scale = std::exp(rng.uniform(std::log(o.min_scale), std::log(o.max_scale)));
    if (std::abs(scale - 1.0) > 1e-3) Scale(scale, &rng, image, mask);
  }
  Photometric(o, &rng, image);
  if (rng.uniform(0.0, 1.0) < o.blur_probability) {
    const double sigma = rng.uniform(0.5, 2.0);
    cv::GaussianBlur(*image, *image, cv::Size(0, 0), sigma);
  }
  if (rng.uniform(0.0, 1.0) < o.noise_probability && o.max_noise_sigma > 0) {
    cv::Mat noise(image->size(), CV_32FC(image->channels()));
    rng.fill(noise, cv::RNG::NORMAL, 0.0, rng.uniform(0.0, o.max_noise_sigma));
    cv::Mat f;
    image->convertTo(f, CV_32F);
    f += noise;
    f.convertTo(*image, CV_8U);  // saturating
  }
  return Status::Ok();
}

}  // namespace seghub::models
