#include "models/seg_crops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "models/seg_files.h"

namespace seghub::models {
namespace {

namespace fs = std::filesystem;

constexpr int kPadMultiple = 32;

// Decoded pixels in RGB order without alpha, any depth.
Result<cv::Mat> ReadPixels(const fs::path& path) {
  cv::Mat m = cv::imread(path.string(), cv::IMREAD_UNCHANGED);
  if (m.empty()) return InvalidArgument("cannot read image " + path.string());
  if (m.channels() == 4) cv::cvtColor(m, m, cv::COLOR_BGRA2RGB);
  if (m.channels() == 3) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  return m;
}

Result<CropImage> LoadImage(const CropDataOptions& o, const fs::path& image_path,
                            const fs::path& label_path) {
  CropImage c;
  c.name = image_path.filename().string();
  SEGHUB_ASSIGN_OR_RETURN(cv::Mat pixels, ReadPixels(image_path));
  SEGHUB_ASSIGN_OR_RETURN(pixels, imaging::ToChannels(pixels, o.channels));
  SEGHUB_ASSIGN_OR_RETURN(imaging::UnitMapping map,
                          imaging::ComputeUnitMapping(pixels, o.normalize, o.auto_invert));
  c.unit = imaging::ApplyUnitMapping(pixels, map);
  cv::Mat labels = cv::imread(label_path.string(), cv::IMREAD_UNCHANGED);
  if (labels.empty()) return InvalidArgument("cannot read labels " + label_path.string());
  if (labels.channels() > 1) cv::cvtColor(labels, labels, cv::COLOR_BGR2GRAY);
  if (labels.size() != pixels.size()) {
    return InvalidArgument("labels size differs from image: " + label_path.string());
  }
  SEGHUB_ASSIGN_OR_RETURN(c.target, SeamTarget(labels, o.border_gap));
  if (o.seam_weight > 0 || o.small_weight > 0) {
    SEGHUB_ASSIGN_OR_RETURN(c.weight, SeamWeight(labels, c.target, o.seam_weight, o.seam_sigma));
    SEGHUB_RETURN_IF_ERROR(WeighSmallObjects(labels, o.small_area, o.small_weight, &c.weight));
  }
  if (o.core_fraction > 0) {
    SEGHUB_ASSIGN_OR_RETURN(cv::Mat core, CoreTarget(labels, o.core_fraction));
    cv::merge(std::vector<cv::Mat>{c.target, core}, c.target);
  }
  c.foreground = labels != 0;
  return c;
}

// Photometric augmentation in unit space; `f` is CV_32FC(n).
void Photometric(cv::RNG* rng, cv::Mat* f) {
  const double gamma = std::exp(rng->uniform(-0.4, 0.4));
  const double contrast = 1.0 + rng->uniform(-0.3, 0.3);
  const double brightness = rng->uniform(-0.1, 0.1);
  cv::max(*f, 0.0, *f);
  cv::pow(*f, gamma, *f);
  f->convertTo(*f, -1, contrast, 0.5 - 0.5 * contrast + brightness);
  if (rng->uniform(0.0, 1.0) < 0.25) {
    cv::GaussianBlur(*f, *f, cv::Size(0, 0), rng->uniform(0.5, 1.5));
  }
  if (rng->uniform(0.0, 1.0) < 0.5) {
    cv::Mat noise(f->size(), f->type());
    rng->fill(noise, cv::RNG::NORMAL, 0.0, rng->uniform(0.0, 0.05));
    *f += noise;
  }
}

// The source window for a crop of `out` px at zoom `scale`, reflected where it leaves the image.
cv::Mat Window(const cv::Mat& m, int x, int y, int side) {
  const cv::Rect want(x, y, side, side);
  const cv::Rect inside = want & cv::Rect(0, 0, m.cols, m.rows);
  cv::Mat w;
  cv::copyMakeBorder(m(inside), w, inside.y - want.y, want.br().y - inside.br().y,
                     inside.x - want.x, want.br().x - inside.br().x, cv::BORDER_REFLECT_101);
  return w;
}

void Orient(int flip, int quarter, cv::Mat* m) {
  if (flip >= -1) cv::flip(*m, *m, flip);
  if (quarter > 0) {
    cv::rotate(*m, *m,
               quarter == 1   ? cv::ROTATE_90_CLOCKWISE
               : quarter == 2 ? cv::ROTATE_180
                              : cv::ROTATE_90_COUNTERCLOCKWISE);
  }
}

// Planar copy of `f` (CV_32FC(n)) into `out`, normalised by mean/std.
void ToPlanar(const cv::Mat& f, const std::vector<float>& mean, const std::vector<float>& std,
              float* out) {
  std::vector<cv::Mat> planes;
  cv::split(f, planes);
  const size_t area = static_cast<size_t>(f.rows) * f.cols;
  for (size_t c = 0; c < planes.size(); ++c) {
    const double m = c < mean.size() ? mean[c] : 0.0, s = c < std.size() ? std[c] : 1.0;
    cv::Mat dst(f.rows, f.cols, CV_32F, out + c * area);
    planes[c].convertTo(dst, CV_32F, 1.0 / s, -m / s);
  }
}

// CV_32S instance ids; a binary mask (one non-zero value) holds none, so its connected components
// become the instances.
Result<cv::Mat> InstanceIds(const cv::Mat& labels_in) {
  if (labels_in.empty() || labels_in.channels() != 1) {
    return InvalidArgument("labels must be a single-channel image");
  }
  cv::Mat labels;
  labels_in.convertTo(labels, CV_32S);
  double lo = 0, hi = 0;
  cv::minMaxLoc(labels, &lo, &hi);
  if (lo < 0) return InvalidArgument("labels must not be negative");
  if (hi > 0 && cv::countNonZero(labels == hi) == cv::countNonZero(labels)) {
    cv::Mat binary = labels != 0;
    cv::connectedComponents(binary, labels, 8, CV_32S);
  }
  return labels;
}

// CV_8U: labelled pixels within `gap` px (square window) of a different instance.
cv::Mat Seam(const cv::Mat& labels, int gap) {
  cv::Mat f;
  labels.convertTo(f, CV_32F);
  const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_RECT, {2 * gap + 1, 2 * gap + 1});
  cv::Mat big = f.clone();
  big.setTo(std::numeric_limits<float>::max(), labels == 0);
  cv::Mat max_near, min_near;
  cv::dilate(f, max_near, kernel);
  cv::erode(big, min_near, kernel);
  return (labels != 0) & ((max_near > f) | (min_near < f));
}

}  // namespace

Result<cv::Mat> SeamTarget(const cv::Mat& labels_in, int gap) {
  SEGHUB_ASSIGN_OR_RETURN(const cv::Mat labels, InstanceIds(labels_in));
  cv::Mat target;
  cv::Mat fg = labels != 0;
  fg.convertTo(target, CV_32F, 1.0 / 255.0);
  if (gap > 0) target.setTo(0.0f, Seam(labels, gap));
  return target;
}

Result<cv::Mat> CoreTarget(const cv::Mat& labels_in, double fraction) {
  if (!(fraction > 0.0 && fraction < 1.0))
    return InvalidArgument("core fraction must be in (0, 1)");
  SEGHUB_ASSIGN_OR_RETURN(const cv::Mat labels, InstanceIds(labels_in));
  // Distances to the background or to a seam pixel: the outside of the pixel's own instance, and
  // pixels next to another instance are 0, so cores of neighbours cannot touch.
  cv::Mat inside = (labels != 0) & ~Seam(labels, 1), dist;
  cv::distanceTransform(inside, dist, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  double max_id = 0;
  cv::minMaxLoc(labels, nullptr, &max_id);
  std::vector<float> deepest(static_cast<size_t>(max_id) + 1, 0.0f);
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    const float* d = dist.ptr<float>(y);
    for (int x = 0; x < labels.cols; ++x) deepest[l[x]] = std::max(deepest[l[x]], d[x]);
  }
  cv::Mat core(labels.size(), CV_32F, cv::Scalar(0));
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    const float* d = dist.ptr<float>(y);
    float* c = core.ptr<float>(y);
    for (int x = 0; x < labels.cols; ++x) {
      const float need = std::max(1.0f, static_cast<float>(fraction) * deepest[l[x]]);
      if (l[x] != 0 && d[x] >= need) c[x] = 1.0f;
    }
  }
  return core;
}

namespace {

// Distances from every pixel to its nearest (d1) and second-nearest (d2) instance, or
// numeric_limits<float>::max() where fewer lie within `margin` px of the pixel.
void NearestTwoInstances(const cv::Mat& labels, int margin, cv::Mat* d1, cv::Mat* d2) {
  *d1 = cv::Mat(labels.size(), CV_32F, cv::Scalar(std::numeric_limits<float>::max()));
  *d2 = d1->clone();
  double max_id = 0;
  cv::minMaxLoc(labels, nullptr, &max_id);
  std::vector<cv::Rect> boxes(static_cast<size_t>(max_id) + 1);
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    for (int x = 0; x < labels.cols; ++x) {
      if (l[x] != 0) boxes[l[x]] |= cv::Rect(x, y, 1, 1);
    }
  }
  const cv::Rect image(0, 0, labels.cols, labels.rows);
  for (size_t id = 1; id < boxes.size(); ++id) {
    if (boxes[id].empty()) continue;
    const cv::Rect& b = boxes[id];
    const cv::Rect roi =
        cv::Rect(b.x - margin, b.y - margin, b.width + 2 * margin, b.height + 2 * margin) & image;
    cv::Mat dist;
    cv::distanceTransform(labels(roi) != static_cast<int>(id), dist, cv::DIST_L2,
                          cv::DIST_MASK_PRECISE);
    for (int y = 0; y < roi.height; ++y) {
      const float* d = dist.ptr<float>(y);
      float* first = d1->ptr<float>(roi.y + y) + roi.x;
      float* second = d2->ptr<float>(roi.y + y) + roi.x;
      for (int x = 0; x < roi.width; ++x) {
        if (d[x] < first[x]) {
          second[x] = first[x];
          first[x] = d[x];
        } else if (d[x] < second[x]) {
          second[x] = d[x];
        }
      }
    }
  }
}

}  // namespace

Result<cv::Mat> SeamWeight(const cv::Mat& labels_in, const cv::Mat& target, double w0,
                           double sigma) {
  if (!(w0 >= 0.0) || !(sigma > 0.0)) {
    return InvalidArgument("seam weight needs w0 >= 0, sigma > 0");
  }
  SEGHUB_ASSIGN_OR_RETURN(const cv::Mat labels, InstanceIds(labels_in));
  if (target.size() != labels.size() || target.type() != CV_32FC1) {
    return InvalidArgument("target must be CV_32FC1 of the labels' size");
  }
  cv::Mat weight(labels.size(), CV_32F, cv::Scalar(1));
  if (w0 == 0.0) return weight;
  // Beyond 3 sigma from an instance the term is below exp(-4.5): each instance's distances are
  // only computed in its box grown by that margin.
  cv::Mat d1, d2;
  NearestTwoInstances(labels, static_cast<int>(std::ceil(3.0 * sigma)), &d1, &d2);
  const float far = std::numeric_limits<float>::max();
  const double denom = 2.0 * sigma * sigma;
  for (int y = 0; y < labels.rows; ++y) {
    const float *a = d1.ptr<float>(y), *b = d2.ptr<float>(y), *t = target.ptr<float>(y);
    float* w = weight.ptr<float>(y);
    for (int x = 0; x < labels.cols; ++x) {
      if (t[x] >= 0.5f || b[x] == far) continue;
      const double s = static_cast<double>(a[x]) + b[x];
      w[x] = static_cast<float>(1.0 + w0 * std::exp(-s * s / denom));
    }
  }
  return weight;
}

Status WeighSmallObjects(const cv::Mat& labels_in, int max_area, double w, cv::Mat* weight) {
  if (!(w >= 0.0)) return InvalidArgument("small-object weight must be >= 0");
  if (w == 0.0 || max_area <= 1) return Status::Ok();
  SEGHUB_ASSIGN_OR_RETURN(const cv::Mat labels, InstanceIds(labels_in));
  if (weight->size() != labels.size() || weight->type() != CV_32FC1) {
    return InvalidArgument("weight must be CV_32FC1 of the labels' size");
  }
  double max_id = 0;
  cv::minMaxLoc(labels, nullptr, &max_id);
  std::vector<int> area(static_cast<size_t>(max_id) + 1, 0);
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    for (int x = 0; x < labels.cols; ++x) ++area[l[x]];
  }
  const float floor = static_cast<float>(1.0 + w);
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    float* p = weight->ptr<float>(y);
    for (int x = 0; x < labels.cols; ++x) {
      if (l[x] != 0 && area[l[x]] < max_area) p[x] = std::max(p[x], floor);
    }
  }
  return Status::Ok();
}

Result<CropDataset> CropDataset::Open(const CropDataOptions& o) {
  if (o.folders.empty()) return InvalidArgument("crop training needs at least one folder");
  if (o.crop < kPadMultiple || o.crop % kPadMultiple != 0) {
    return InvalidArgument("crop size must be a positive multiple of 32");
  }
  if (o.seam_weight < 0 || !(o.seam_sigma > 0) || o.small_weight < 0) {
    return InvalidArgument("seam and small-object weights must be >= 0, the seam sigma > 0");
  }
  if (o.min_scale <= 0 || o.max_scale < o.min_scale) {
    return InvalidArgument("zoom range must satisfy 0 < min <= max");
  }
  CropDataset d;
  d.options_ = o;
  const int every = std::max(2, o.val_every);
  for (const fs::path& folder : o.folders) {
    const fs::path images = folder / "images";
    const fs::path labels =
        fs::is_directory(folder / "labels") ? folder / "labels" : folder / "masks";
    if (!fs::is_directory(images) || !fs::is_directory(labels)) {
      return InvalidArgument(folder.string() + " needs images/ and labels/ (or masks/) folders");
    }
    SEGHUB_ASSIGN_OR_RETURN(const std::vector<LabelledFile> files,
                            ListLabelledFiles(images, labels));
    for (size_t i = 0; i < files.size(); ++i) {
      SEGHUB_ASSIGN_OR_RETURN(CropImage img, LoadImage(o, files[i].image, files[i].label));
      (IsHeldOut(i, every) ? d.val_ : d.train_).push_back(std::move(img));
    }
  }
  if (d.train_.empty() || d.val_.empty()) {
    return InvalidArgument("crop training needs at least " + std::to_string(every) +
                           " labelled images");
  }
  return d;
}

Status CropDataset::Train(uint64_t index, uint64_t seed, float* x, float* y, float* w) const {
  cv::RNG rng(seed * 0x9E3779B97F4A7C15ULL + index * 2654435761ULL + 1);
  const CropImage& img = train_[rng.uniform(0, static_cast<int>(train_.size()))];
  const double scale =
      std::exp(rng.uniform(std::log(options_.min_scale), std::log(options_.max_scale)));
  const int out = options_.crop;
  const int side = std::max(8, static_cast<int>(std::lround(out / scale)));
  const int x0 = rng.uniform(-side / 4, std::max(1, img.unit.cols - side + side / 4));
  const int y0 = rng.uniform(-side / 4, std::max(1, img.unit.rows - side + side / 4));
  cv::Mat f, t;
  cv::resize(Window(img.unit, x0, y0, side), f, {out, out}, 0, 0,
             side > out ? cv::INTER_AREA : cv::INTER_LINEAR);
  cv::resize(Window(img.target, x0, y0, side), t, {out, out}, 0, 0,
             side > out ? cv::INTER_AREA : cv::INTER_LINEAR);
  const int flip = rng.uniform(-2, 2);  // -2 = none, else cv::flip's code
  const int quarter = rng.uniform(0, 4);
  Orient(flip, quarter, &f);
  Orient(flip, quarter, &t);
  if (weighted()) {
    if (w == nullptr) return InvalidArgument("a weighted crop dataset needs a weight buffer");
    cv::Mat wm(out, out, CV_32F, w);
    cv::resize(Window(img.weight, x0, y0, side), wm, {out, out}, 0, 0,
               side > out ? cv::INTER_AREA : cv::INTER_LINEAR);
    Orient(flip, quarter, &wm);
    if (wm.data != reinterpret_cast<uchar*>(w)) wm.copyTo(cv::Mat(out, out, CV_32F, w));
  }
  Photometric(&rng, &f);
  ToPlanar(f, options_.mean, options_.std, x);
  std::vector<cv::Mat> planes;
  cv::split(t, planes);
  for (size_t c = 0; c < planes.size(); ++c) {
    cv::Mat dst(out, out, CV_32F, y + c * out * out);
    planes[c].copyTo(dst);
  }
  return Status::Ok();
}

std::vector<float> CropDataset::WholeInput(const cv::Mat& unit, cv::Size* padded) const {
  const int w = (unit.cols + kPadMultiple - 1) / kPadMultiple * kPadMultiple;
  const int h = (unit.rows + kPadMultiple - 1) / kPadMultiple * kPadMultiple;
  cv::Mat p;
  cv::copyMakeBorder(unit, p, 0, h - unit.rows, 0, w - unit.cols, cv::BORDER_REFLECT_101);
  std::vector<float> out(static_cast<size_t>(p.channels()) * h * w);
  ToPlanar(p, options_.mean, options_.std, out.data());
  *padded = cv::Size(w, h);
  return out;
}

}  // namespace seghub::models
