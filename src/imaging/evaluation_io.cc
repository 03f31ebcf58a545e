// Ground-truth readers declared in evaluation.h (kept apart from the metrics, which do no I/O).
#include <algorithm>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <system_error>

#include "imaging/evaluation.h"

namespace seghub::imaging {
namespace {

namespace fs = std::filesystem;

bool HasImageExtension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".tif" || ext == ".tiff" || ext == ".bmp" || ext == ".jpg" ||
         ext == ".jpeg";
}

Result<cv::Mat> ReadUnchanged(const std::string& path) {
  cv::Mat image;
  try {
    image = cv::imread(path, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    return InvalidArgument("cannot read " + path + ": " + e.what());
  }
  if (image.empty()) return InvalidArgument("cannot read " + path + " as an image");
  return image;
}

// True when the 8-bit image holds at most two values (0 and one other): a binary mask.
bool IsBinary(const cv::Mat& image8) {
  int other = -1;
  for (int y = 0; y < image8.rows; ++y) {
    const uint8_t* row = image8.ptr<uint8_t>(y);
    for (int x = 0; x < image8.cols; ++x) {
      if (row[x] == 0 || row[x] == other) continue;
      if (other >= 0) return false;
      other = row[x];
    }
  }
  return true;
}

Result<cv::Mat> LabelsFromImage(const cv::Mat& image, const std::string& path) {
  if (image.channels() != 1) {
    return InvalidArgument(path + ": ground truth must be a single-channel label image or mask");
  }
  cv::Mat labels;
  if (image.depth() == CV_8U && IsBinary(image)) {
    cv::connectedComponents(image != 0, labels, 8, CV_32S);
    return labels;
  }
  if (image.depth() == CV_32F || image.depth() == CV_64F) {
    double min_value = 0;
    cv::minMaxLoc(image, &min_value);
    if (min_value < 0) return InvalidArgument(path + ": negative labels");
  }
  image.convertTo(labels, CV_32S);
  return labels;
}

// One binary mask per instance file, in name order.
Result<cv::Mat> LabelsFromMaskFolder(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && HasImageExtension(entry.path())) files.push_back(entry.path());
  }
  if (ec) return InvalidArgument("cannot list " + dir.string() + ": " + ec.message());
  if (files.empty()) return InvalidArgument(dir.string() + " holds no mask images");
  std::sort(files.begin(), files.end());
  cv::Mat labels;
  int next_label = 1;
  for (const fs::path& file : files) {
    SEGHUB_ASSIGN_OR_RETURN(cv::Mat mask, ReadUnchanged(file.string()));
    if (mask.channels() != 1) cv::extractChannel(mask, mask, 0);
    if (labels.empty()) labels = cv::Mat::zeros(mask.size(), CV_32S);
    if (mask.size() != labels.size()) {
      return InvalidArgument(file.string() + ": mask size differs from the other masks");
    }
    if (cv::countNonZero(mask) == 0) continue;  // empty masks are not objects
    labels.setTo(next_label++, mask != 0);
  }
  return labels;
}

}  // namespace

Result<cv::Mat> ReadGroundTruthLabels(const std::string& path) {
  std::error_code ec;
  const fs::path p(path);
  if (fs::is_directory(p, ec)) {
    const fs::path masks = p / "masks";
    return LabelsFromMaskFolder(fs::is_directory(masks, ec) ? masks : p);
  }
  if (!fs::exists(p, ec)) return NotFound("no ground truth at " + path);
  SEGHUB_ASSIGN_OR_RETURN(cv::Mat image, ReadUnchanged(path));
  return LabelsFromImage(image, path);
}

Result<std::string> FindGroundTruthPath(const std::string& image_path) {
  const fs::path image(image_path);
  const fs::path dir = image.parent_path();
  const fs::path root = dir.parent_path();
  const std::string stem = image.stem().string();
  std::error_code ec;
  for (const char* folder : {"labels", "masks"}) {
    const fs::path base = root / folder;
    if (fs::is_regular_file(base / image.filename(), ec)) return (base / image.filename()).string();
    for (const char* ext : {".png", ".tif", ".tiff"}) {
      const fs::path candidate = base / (stem + ext);
      if (fs::is_regular_file(candidate, ec)) return candidate.string();
    }
    if (fs::is_directory(base / stem, ec)) return (base / stem).string();
  }
  // DSB2018 training layout: <id>/images/<id>.png next to <id>/masks/*.png.
  if (root.filename() == stem && fs::is_directory(root / "masks", ec)) {
    return (root / "masks").string();
  }
  return NotFound("no labels/ or masks/ ground truth next to " + image_path);
}

}  // namespace seghub::imaging
