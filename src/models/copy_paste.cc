#include "models/copy_paste.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <vector>

namespace seghub::models {
namespace {

constexpr int kMargin = 3;          // source px kept around an object: its dim edge
constexpr double kEdgeSigma = 1.0;  // px of the crop: the blend's soft edge
constexpr int kFreeAttempts = 10;   // random spots tried for an object placed anywhere

void Orient(int flip, int quarter, cv::Mat* m) {
  if (flip >= -1) cv::flip(*m, *m, flip);
  if (quarter == 1) cv::rotate(*m, *m, cv::ROTATE_90_CLOCKWISE);
  if (quarter == 2) cv::rotate(*m, *m, cv::ROTATE_180);
  if (quarter == 3) cv::rotate(*m, *m, cv::ROTATE_90_COUNTERCLOCKWISE);
}

// Pixels of `occupied` (CV_8U, non-zero = an object) under `mask` placed with its corner at `at`.
int Overlap(const cv::Mat& mask, cv::Point at, const cv::Mat& occupied) {
  const cv::Rect dst = cv::Rect(at, mask.size()) & cv::Rect(0, 0, occupied.cols, occupied.rows);
  if (dst.empty()) return 0;
  return cv::countNonZero(mask(cv::Rect(dst.tl() - at, dst.size())) & occupied(dst));
}

// The corner for `mask` so that it covers no object: with probability touch_probability just
// against one (moved out from a random object pixel in a random direction until it no longer
// overlaps), else at a free random spot. nullopt when no free spot was found.
std::optional<cv::Point> Place(const PasteOptions& o, const cv::Mat& ids, const cv::Mat& mask,
                               cv::RNG* rng) {
  const cv::Mat occupied = ids != 0;
  const cv::Point half(mask.cols / 2, mask.rows / 2);
  std::vector<cv::Point> objects;
  if (rng->uniform(0.0, 1.0) < o.touch_probability) cv::findNonZero(occupied, objects);
  if (!objects.empty()) {
    const cv::Point anchor = objects[rng->uniform(0, static_cast<int>(objects.size()))];
    const double angle = rng->uniform(0.0, 2.0 * M_PI);
    const double dx = std::cos(angle), dy = std::sin(angle);
    for (int step = 0; step <= ids.cols + ids.rows; ++step) {
      const cv::Point at(anchor.x + static_cast<int>(std::lround(step * dx)) - half.x,
                         anchor.y + static_cast<int>(std::lround(step * dy)) - half.y);
      if (Overlap(mask, at, occupied) == 0) return at;
    }
    return std::nullopt;
  }
  for (int attempt = 0; attempt < kFreeAttempts; ++attempt) {
    const cv::Point at(rng->uniform(-half.x, ids.cols - half.x),
                       rng->uniform(-half.y, ids.rows - half.y));
    if (Overlap(mask, at, occupied) == 0) return at;
  }
  return std::nullopt;
}

// Blends one patch (pixels `pix`, mask `mask`, both of one size) into the crop at `at`.
void Blend(const cv::Mat& pix, const cv::Mat& mask, cv::Point at, int new_id, cv::Mat* crop,
           cv::Mat* ids) {
  const cv::Rect dst = cv::Rect(at, pix.size()) & cv::Rect(0, 0, crop->cols, crop->rows);
  if (dst.empty()) return;
  const cv::Rect src(dst.tl() - at, dst.size());
  cv::Mat hard, alpha;
  mask.convertTo(hard, CV_32F, 1.0 / 255.0);
  cv::GaussianBlur(hard, alpha, cv::Size(0, 0), kEdgeSigma);
  alpha = cv::max(alpha, hard);  // the labelled pixels themselves are opaque
  std::vector<cv::Mat> a(static_cast<size_t>(crop->channels()), alpha(src));
  cv::Mat alpha_n;
  cv::merge(a, alpha_n);
  cv::Mat region = (*crop)(dst);
  cv::Mat blended = region.mul(1.0 - alpha_n) + pix(src).mul(alpha_n);
  blended.copyTo(region);
  (*ids)(dst).setTo(new_id, mask(src));
}

}  // namespace

std::vector<PasteObject> FindPasteObjects(const cv::Mat& ids, int image, int min_area) {
  std::vector<PasteObject> out;
  if (ids.type() != CV_32SC1) return out;
  double max_id = 0;
  cv::minMaxLoc(ids, nullptr, &max_id);
  std::vector<cv::Rect> boxes(static_cast<size_t>(max_id) + 1);
  std::vector<int> area(boxes.size(), 0);
  for (int y = 0; y < ids.rows; ++y) {
    const int* l = ids.ptr<int>(y);
    for (int x = 0; x < ids.cols; ++x) {
      if (l[x] == 0) continue;
      boxes[l[x]] |= cv::Rect(x, y, 1, 1);
      ++area[l[x]];
    }
  }
  for (size_t id = 1; id < boxes.size(); ++id) {
    const cv::Rect& b = boxes[id];
    if (area[id] < min_area || b.x == 0 || b.y == 0 || b.br().x == ids.cols ||
        b.br().y == ids.rows) {
      continue;
    }
    out.push_back({image, static_cast<int>(id), b});
  }
  return out;
}

Status PasteObjects(const PasteOptions& o, std::span<const PasteObject> bank,
                    std::span<const cv::Mat> units, std::span<const cv::Mat> ids_of, double scale,
                    cv::RNG* rng, cv::Mat* crop, cv::Mat* ids) {
  if (o.max_objects <= 0) return Status::Ok();
  if (crop == nullptr || ids == nullptr || ids->type() != CV_32SC1 || crop->depth() != CV_32F ||
      crop->size() != ids->size() || units.size() != ids_of.size() || !(scale > 0.0)) {
    return InvalidArgument("copy-paste needs a float crop, CV_32S ids of its size and a zoom > 0");
  }
  const int n = rng->uniform(0, o.max_objects + 1);
  if (bank.empty() || n == 0) return Status::Ok();
  double max_id = 0;
  cv::minMaxLoc(*ids, nullptr, &max_id);
  for (int k = 0; k < n; ++k) {
    const PasteObject& p = bank[rng->uniform(0, static_cast<int>(bank.size()))];
    if (p.image < 0 || static_cast<size_t>(p.image) >= units.size()) {
      return InvalidArgument("copy-paste object refers to a missing image");
    }
    const cv::Mat& unit = units[p.image];
    if (unit.channels() != crop->channels()) {
      return InvalidArgument("copy-paste source and crop differ in channels");
    }
    const cv::Rect box = cv::Rect(p.box.x - kMargin, p.box.y - kMargin, p.box.width + 2 * kMargin,
                                  p.box.height + 2 * kMargin) &
                         cv::Rect(0, 0, unit.cols, unit.rows);
    const cv::Size size(std::max(1, static_cast<int>(std::lround(box.width * scale))),
                        std::max(1, static_cast<int>(std::lround(box.height * scale))));
    cv::Mat pix, mask;
    cv::resize(unit(box), pix, size, 0, 0, scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
    cv::resize(ids_of[p.image](box) == p.id, mask, size, 0, 0, cv::INTER_NEAREST);
    const int flip = rng->uniform(-2, 2), quarter = rng->uniform(0, 4);
    Orient(flip, quarter, &pix);
    Orient(flip, quarter, &mask);
    const std::optional<cv::Point> at = Place(o, *ids, mask, rng);
    if (at) Blend(pix, mask, *at, static_cast<int>(max_id) + 1 + k, crop, ids);
  }
  return Status::Ok();
}

}  // namespace seghub::models
