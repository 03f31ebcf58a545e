#include "tools/bench_image.h"

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "imaging/decode.h"
#include "pipeline/input_plan.h"

namespace seghub::tools {

// Grey, gently shaded background with sensor-like noise and dark discs (spheroid-like): noise
// keeps the PNG from compressing to nothing, so decode costs what a real photo costs.
BenchImage SyntheticImage(int size) {
  cv::Mat grey(size, size, CV_8UC1);
  cv::RNG rng(42);
  for (int y = 0; y < size; ++y) {
    auto* row = grey.ptr<uint8_t>(y);
    for (int x = 0; x < size; ++x) row[x] = cv::saturate_cast<uint8_t>(170 + 30 * x / size);
  }
  for (int i = 0; i < 12; ++i) {
    cv::Point c(rng.uniform(size / 10, size - size / 10), rng.uniform(size / 10, size - size / 10));
    cv::circle(grey, c, rng.uniform(size / 40, size / 10), cv::Scalar(60 + rng.uniform(0, 40)),
               cv::FILLED, cv::LINE_AA);
  }
  cv::Mat noise(size, size, CV_16SC1);  // signed, so the noise darkens as well as brightens
  rng.fill(noise, cv::RNG::NORMAL, 0, 6);
  cv::add(grey, noise, grey, cv::noArray(), CV_8U);
  cv::Mat rgb;
  cv::cvtColor(grey, rgb, cv::COLOR_GRAY2BGR);
  std::vector<uint8_t> png;
  cv::imencode(".png", rgb, png);
  return {std::string(png.begin(), png.end()), "synthetic PNG with dark discs", size, size};
}

Result<BenchImage> LoadBenchImage(const std::string& path, int size, const std::string& encoding) {
  if (encoding != "png" && encoding != "jpeg") {
    return InvalidArgument("--encode must be png or jpeg, not " + encoding);
  }
  if (path.empty()) return SyntheticImage(size > 0 ? size : 1024);
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read --image " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  BenchImage img{ss.str(), path, 0, 0};
  const std::string& b = img.bytes;
  SEGHUB_ASSIGN_OR_RETURN(
      auto decoded, imaging::DecodeImage({reinterpret_cast<const uint8_t*>(b.data()), b.size()}));
  cv::Mat px = decoded.pixels;
  if (size > 0 && (px.cols != size || px.rows != size)) {
    cv::resize(px, px, cv::Size(size, size), 0, 0, cv::INTER_AREA);
    if (px.channels() == 3) cv::cvtColor(px, px, cv::COLOR_RGB2BGR);  // imencode wants BGR
    std::vector<uint8_t> encoded;
    const bool jpeg = encoding == "jpeg";
    // Quality 95: what microscope software and cameras typically write.
    const std::vector<int> params =
        jpeg ? std::vector<int>{cv::IMWRITE_JPEG_QUALITY, 95} : std::vector<int>{};
    if (!cv::imencode(jpeg ? ".jpg" : ".png", px, encoded, params)) {
      return Internal("cannot re-encode " + path);
    }
    img.bytes.assign(encoded.begin(), encoded.end());
    img.source += jpeg ? " (resized, JPEG q95)" : " (resized, PNG)";
  }
  img.width = px.cols;
  img.height = px.rows;
  return img;
}

// Exactly the tensors the pipeline would submit for this image (InputPlan), so the raw engine
// baseline and the end-to-end paths run the same shapes.
Result<std::vector<engine::Tensor>> PrepareInputs(const BenchImage& img,
                                                  const engine::ModelConfig& config) {
  const std::string& b = img.bytes;
  SEGHUB_ASSIGN_OR_RETURN(
      auto decoded, imaging::DecodeImage({reinterpret_cast<const uint8_t*>(b.data()), b.size()}));
  SEGHUB_ASSIGN_OR_RETURN(auto plan, pipeline::InputPlan::Create(decoded.pixels, config));
  std::vector<engine::Tensor> inputs;
  for (size_t i = 0; i < plan.size(); ++i) {
    SEGHUB_ASSIGN_OR_RETURN(auto t, plan.MakeInput(i));
    inputs.push_back(std::move(t));
  }
  return inputs;
}

}  // namespace seghub::tools
