#include "models/seg_files.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <string>

namespace seghub::models {

namespace fs = std::filesystem;

bool IsImageFile(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".tif" || ext == ".tiff" ||
         ext == ".bmp";
}

Result<std::vector<LabelledFile>> ListLabelledFiles(const fs::path& images,
                                                    const fs::path& labels) {
  std::map<std::string, fs::path> label_by_stem;
  std::vector<fs::path> files;
  try {
    for (const auto& e : fs::directory_iterator(labels)) {
      if (IsImageFile(e.path())) label_by_stem[e.path().stem().string()] = e.path();
    }
    for (const auto& e : fs::directory_iterator(images)) {
      if (IsImageFile(e.path())) files.push_back(e.path());
    }
  } catch (const fs::filesystem_error& e) {
    return InvalidArgument(std::string("cannot list training folder: ") + e.what());
  }
  std::sort(files.begin(), files.end());
  std::vector<LabelledFile> out;
  out.reserve(files.size());
  for (const fs::path& f : files) {
    auto it = label_by_stem.find(f.stem().string());
    if (it == label_by_stem.end()) return InvalidArgument("no label image for " + f.string());
    out.push_back({f, it->second});
  }
  return out;
}

}  // namespace seghub::models
