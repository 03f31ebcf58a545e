// Copy-paste augmentation: which objects may be pasted, that a pasted object arrives whole (its
// pixels, its area at the crop's zoom, a new id) against an existing object, and that the
// augmentation is a no-op drawing nothing from the RNG when off.
#include "models/copy_paste.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <vector>

namespace seghub::models {
namespace {

// A source image: a bright disc (id 1, radius 8) in the middle, a small one (id 2, 3 px wide)
// and one cut by the border (id 3).
void Source(cv::Mat* unit, cv::Mat* ids) {
  *ids = cv::Mat::zeros(60, 60, CV_32SC1);
  cv::circle(*ids, {30, 30}, 8, cv::Scalar(1), -1);
  (*ids)(cv::Rect(5, 5, 3, 1)).setTo(2);
  cv::circle(*ids, {58, 10}, 5, cv::Scalar(3), -1);
  *unit = cv::Mat(ids->size(), CV_32FC1, cv::Scalar(0.05));
  unit->setTo(0.8, *ids == 1);
  unit->setTo(0.6, *ids == 2);
  unit->setTo(0.7, *ids == 3);
}

class CopyPasteTest : public ::testing::Test {
 protected:
  CopyPasteTest() {
    Source(&unit_, &ids_);
    bank_ = FindPasteObjects(ids_, 0, 10);
  }
  // Pastes from the one source image into `crop` / `crop_ids`.
  Status Paste(const PasteOptions& o, double scale, cv::RNG* rng, cv::Mat* crop,
               cv::Mat* crop_ids) const {
    return PasteObjects(o, bank_, {&unit_, 1}, {&ids_, 1}, scale, rng, crop, crop_ids);
  }

  cv::Mat unit_, ids_;
  std::vector<PasteObject> bank_;
};

TEST_F(CopyPasteTest, FindsWholeObjectsLargeEnough) {
  const std::vector<PasteObject> objects = FindPasteObjects(ids_, 4, 10);
  ASSERT_EQ(objects.size(), 1u) << "id 2 is too small, id 3 touches the border";
  EXPECT_EQ(objects[0].id, 1);
  EXPECT_EQ(objects[0].image, 4);
  EXPECT_EQ(objects[0].box, cv::Rect(22, 22, 17, 17));
  EXPECT_TRUE(FindPasteObjects(cv::Mat::zeros(4, 4, CV_8UC1), 0, 1).empty());
}

TEST_F(CopyPasteTest, OffChangesNothingAndDrawsNothing) {
  cv::Mat crop(40, 40, CV_32FC1, cv::Scalar(0.1)), crop_ids = cv::Mat::zeros(40, 40, CV_32SC1);
  cv::RNG rng(5);
  const uint64_t state = rng.state;
  ASSERT_TRUE(Paste(PasteOptions{}, 1.0, &rng, &crop, &crop_ids).ok());
  EXPECT_EQ(rng.state, state);
  EXPECT_EQ(cv::countNonZero(crop_ids), 0);
}

// Pasted at zoom 2 against the crop's one object: the new id covers about (2 x 8)^2 pi px, its
// pixels carry the source object's value, and it lies against the existing object without
// covering any of it.
TEST_F(CopyPasteTest, PastedObjectArrivesWholeAgainstAnObject) {
  PasteOptions o;
  o.max_objects = 1;
  o.touch_probability = 1.0;
  int pasted = 0;
  for (uint64_t seed = 1; seed <= 40 && pasted < 5; ++seed) {
    cv::Mat crop(128, 128, CV_32FC1, cv::Scalar(0.1));
    cv::Mat crop_ids = cv::Mat::zeros(128, 128, CV_32SC1);
    cv::circle(crop_ids, {64, 64}, 14, cv::Scalar(7), -1);
    crop.setTo(0.5, crop_ids == 7);
    const int existing = cv::countNonZero(crop_ids == 7);
    // Small seeds make cv::RNG's first draws even: spread them over 64 bits.
    cv::RNG rng(seed * 0x9E3779B97F4A7C15ULL);
    ASSERT_TRUE(Paste(o, 2.0, &rng, &crop, &crop_ids).ok());
    const cv::Mat mine = crop_ids == 8;
    const int area = cv::countNonZero(mine);
    if (area == 0) continue;  // this seed drew 0 objects
    ++pasted;
    const double full = CV_PI * 16 * 16;
    EXPECT_LE(area, 1.1 * full);
    // Part may fall outside the crop; most of it must not.
    EXPECT_GE(area, 0.4 * full) << "seed " << seed;
    // Inside its edge (where resampling mixes in the source's background) the pasted object
    // replaces the crop's pixels: the labelled pixels are opaque.
    cv::Mat inner;
    cv::erode(mine, inner, cv::getStructuringElement(cv::MORPH_ELLIPSE, {7, 7}));
    ASSERT_GT(cv::countNonZero(inner), 0);
    EXPECT_NEAR(cv::mean(crop, inner)[0], 0.8, 1e-4);
    cv::Mat grown;
    cv::dilate(mine, grown, cv::getStructuringElement(cv::MORPH_ELLIPSE, {9, 9}));
    EXPECT_GT(cv::countNonZero(grown & (crop_ids == 7)), 0) << "placed against object 7";
    EXPECT_EQ(cv::countNonZero(crop_ids == 7), existing) << "object 7 is not covered";
  }
  EXPECT_GE(pasted, 5);
}

TEST_F(CopyPasteTest, RefusesBadInput) {
  PasteOptions o;
  o.max_objects = 2;
  cv::RNG rng(1);
  cv::Mat crop(32, 32, CV_32FC1, cv::Scalar(0)), crop_ids = cv::Mat::zeros(32, 32, CV_32SC1);
  cv::Mat wrong_ids = cv::Mat::zeros(32, 32, CV_16UC1);
  EXPECT_FALSE(Paste(o, 1.0, &rng, &crop, &wrong_ids).ok());
  EXPECT_FALSE(Paste(o, 0.0, &rng, &crop, &crop_ids).ok());
  cv::Mat colour(32, 32, CV_32FC3, cv::Scalar(0, 0, 0));
  bool refused = false;
  for (int i = 0; i < 10 && !refused; ++i) {  // refused once an object is actually drawn
    refused = !Paste(o, 1.0, &rng, &colour, &crop_ids).ok();
  }
  EXPECT_TRUE(refused) << "source and crop channels differ";
}

}  // namespace
}  // namespace seghub::models
