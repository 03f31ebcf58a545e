// SegmentService over a real Engine with the deterministic test backend. The "affine" model with
// scale -1 turns a dark object on a bright background into positive logits, so the expected
// polygons are known exactly.
#include "pipeline/segment_service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "engine/test_backend.h"

namespace seghub::pipeline {
namespace {

using std::chrono::seconds;

std::string Png(const cv::Mat& m) {
  std::vector<uint8_t> buf;
  cv::imencode(".png", m, buf);
  return std::string(buf.begin(), buf.end());
}

// Dark disc (and optional bright hole) on a bright background, 8-bit grey.
cv::Mat Disc(cv::Size size, cv::Point c, int r, int hole_r = 0, int depth = CV_8U) {
  double bg = depth == CV_8U ? 200 : 3000, fg = depth == CV_8U ? 40 : 1000;
  cv::Mat m(size, CV_MAKETYPE(depth, 1), cv::Scalar(bg));
  cv::circle(m, c, r, cv::Scalar(fg), cv::FILLED);
  if (hole_r > 0) cv::circle(m, c, hole_r, cv::Scalar(bg), cv::FILLED);
  return m;
}

class SegmentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("seghub_segment_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    backends_.Register(engine::MakeTestBackend());
  }
  void TearDown() override {
    if (service_) service_->Shutdown();
    if (engine_) engine_->Shutdown();
    std::filesystem::remove_all(root_);
  }
  void AddModel(const std::string& name, const std::string& input, const std::string& extra = "") {
    std::filesystem::create_directories(root_ / name);
    std::ofstream(root_ / name / "model.json") << R"({"backend": "test", "architecture": "affine",
               "arch_params": {"scale": -1.0, "offset": 0.0)"
                                               << extra << R"(}, "input": )" << input << "}";
  }
  // `img` through `model`, keeping the probability map.
  Result<SegmentResult> SegmentKeepingMap(const cv::Mat& img, const std::string& model) {
    SegmentRequest req;
    req.keep_image = true;
    req.model = model;
    return service_->SegmentSync(Png(img), req);
  }
  SegmentService& Start(const std::string& default_model = "stretch") {
    engine::EngineOptions o;
    o.model_dir = root_;
    o.cpu_threads = 2;
    auto e = engine::Engine::Create(o, &backends_, &registry_);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    engine_->Start();
    EXPECT_TRUE(engine_->WaitReady(seconds(10)));
    SegmentServiceOptions so;
    so.default_model = default_model;
    so.registry = &registry_;
    service_ = std::make_unique<SegmentService>(engine_.get(), so);
    return *service_;
  }

  std::filesystem::path root_;
  engine::BackendRegistry backends_;
  metrics::Registry registry_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<SegmentService> service_;
};

const char kStretch[] =
    R"({"channels": 3, "size": [64, 64], "resize": "stretch",
        "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]})";
const char kTile[] =
    R"({"channels": 3, "resize": "tile", "tile": 128, "tile_overlap": 32,
        "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]})";
const char kWhole[] =
    R"({"channels": 3, "resize": "none",
        "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]})";

TEST_F(SegmentServiceTest, DiscBecomesOnePolygonWithMetrics) {
  AddModel("stretch", kStretch);
  auto r = Start().SegmentSync(Png(Disc({300, 200}, {150, 100}, 60)), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model, "stretch");
  EXPECT_EQ(r->width, 300);
  EXPECT_EQ(r->height, 200);
  ASSERT_EQ(r->polygons.size(), 1u);
  const imaging::Polygon& p = r->polygons[0];
  EXPECT_EQ(p.type, imaging::PolygonType::kExternal);
  // Squashed to 64x64 and back: the outline moves by about a source pixel or two.
  EXPECT_NEAR(p.area, M_PI * 60 * 60, 0.05 * M_PI * 60 * 60);
  EXPECT_GT(p.confidence, 0.7);
  ASSERT_EQ(r->metrics.count(p.id), 1u);
  EXPECT_NEAR(r->metrics.at(p.id).equivalent_diameter, 120, 4);
  EXPECT_GT(r->metrics.at(p.id).circularity, 0.9);
  EXPECT_EQ(r->model_inputs, 1);
  nlohmann::json j = SegmentResultToHubJson(*r);
  EXPECT_EQ(j["model_used"], "stretch");
  EXPECT_EQ(j["image_size"]["width"], 300);
  EXPECT_EQ(j["polygons"].size(), 1u);
  EXPECT_TRUE(j["polygons"][0].contains("metrics"));
}

TEST_F(SegmentServiceTest, RingKeepsItsHoleUnlessHolesAreOff) {
  AddModel("whole", kWhole);
  SegmentService& s = Start("whole");
  auto r = s.SegmentSync(Png(Disc({200, 200}, {100, 100}, 70, 30)), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->polygons.size(), 2u);
  EXPECT_EQ(r->polygons[1].type, imaging::PolygonType::kInternal);
  EXPECT_EQ(r->polygons[1].parent_id, r->polygons[0].id);
  double ring = M_PI * (70 * 70 - 30 * 30);
  EXPECT_NEAR(r->metrics.at(r->polygons[0].id).area, ring, 0.03 * ring);
  SegmentRequest no_holes;
  no_holes.detect_holes = false;
  auto filled = s.SegmentSync(Png(Disc({200, 200}, {100, 100}, 70, 30)), no_holes);
  ASSERT_TRUE(filled.ok());
  EXPECT_EQ(filled->polygons.size(), 1u);
}

TEST_F(SegmentServiceTest, TiledMaskEqualsWholeMask) {
  AddModel("tile", kTile);
  AddModel("whole", kWhole);
  Start();
  cv::Mat img = Disc({530, 410}, {260, 200}, 150, 40);
  cv::circle(img, {40, 40}, 25, cv::Scalar(40), cv::FILLED);  // crosses tile borders
  auto tiled = SegmentKeepingMap(img, "tile");
  auto whole = SegmentKeepingMap(img, "whole");
  ASSERT_TRUE(tiled.ok()) << tiled.status().ToString();
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_GT(tiled->model_inputs, 4);
  cv::Mat a = tiled->probabilities > 0.5, b = whole->probabilities > 0.5;
  double inter = cv::countNonZero(a & b), uni = cv::countNonZero(a | b);
  ASSERT_GT(uni, 0);
  EXPECT_GE(inter / uni, 0.999);
  EXPECT_EQ(tiled->polygons.size(), whole->polygons.size());
}

// input.flips: mirrored (and with 8, transposed) tiles are turned back before blending. The
// affine model is pixelwise, so averaging must give the plain map exactly; a variant blended
// without being turned back would smear the off-centre objects onto their mirror images.
TEST_F(SegmentServiceTest, TileFlipsAreMirroredBack) {
  AddModel("tile", kTile);
  for (int flips : {4, 8}) {
    AddModel("tile" + std::to_string(flips),
             R"({"channels": 3, "resize": "tile", "tile": 128, "tile_overlap": 32, "flips": )" +
                 std::to_string(flips) + R"(, "mean": [0.485, 0.456, 0.406],
                 "std": [0.229, 0.224, 0.225]})");
  }
  Start();
  cv::Mat img = Disc({300, 220}, {90, 70}, 45);
  cv::circle(img, {240, 170}, 20, cv::Scalar(40), cv::FILLED);
  auto plain = SegmentKeepingMap(img, "tile");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  for (int flips : {4, 8}) {
    SCOPED_TRACE(flips);
    auto flipped = SegmentKeepingMap(img, "tile" + std::to_string(flips));
    ASSERT_TRUE(flipped.ok()) << flipped.status().ToString();
    EXPECT_EQ(flipped->model_inputs, flips * plain->model_inputs);
    double max_diff = 0.0;
    cv::minMaxLoc(cv::abs(plain->probabilities - flipped->probabilities), nullptr, &max_diff);
    EXPECT_LT(max_diff, 1e-5);
    ASSERT_EQ(flipped->polygons.size(), 2u);
    EXPECT_EQ(flipped->polygons.size(), plain->polygons.size());
  }
}

// A two-channel model: the affine test model passes red (the foreground) and green (the cores)
// through, so a merged pair of discs in red with two separate cores in green must come out as
// two objects, through 2-channel tiles, flips and blending; without cores it is one.
TEST_F(SegmentServiceTest, CoreChannelSplitsTouchingObjects) {
  const std::string input = R"({"channels": 3, "resize": "tile", "tile": 128, "tile_overlap": 32,
                                "flips": 2, "mean": [0.485, 0.456, 0.406],
                                "std": [0.229, 0.224, 0.225]})";
  AddModel("plain", input);
  AddModel("cores", input + R"(, "output": {"channels": 2},
                               "postprocess": {"instances": "cores", "min_area": 10})");
  Start();
  cv::Mat bgr(220, 300, CV_8UC3, cv::Scalar(200, 200, 200));
  std::vector<cv::Mat> ch;
  cv::split(bgr, ch);
  cv::circle(ch[2], {110, 110}, 40, cv::Scalar(40), cv::FILLED);  // red: the foreground
  cv::circle(ch[2], {170, 110}, 40, cv::Scalar(40), cv::FILLED);
  cv::circle(ch[1], {105, 110}, 12, cv::Scalar(40), cv::FILLED);  // green: the cores
  cv::circle(ch[1], {175, 110}, 12, cv::Scalar(40), cv::FILLED);
  cv::merge(ch, bgr);
  auto plain = SegmentKeepingMap(bgr, "plain");
  auto split = SegmentKeepingMap(bgr, "cores");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_EQ(plain->polygons.size(), 1u);
  ASSERT_EQ(split->polygons.size(), 2u);
  EXPECT_NEAR(split->polygons[0].area, split->polygons[1].area, 0.05 * split->polygons[0].area);
  EXPECT_NEAR(split->polygons[0].area + split->polygons[1].area, plain->polygons[0].area,
              0.03 * plain->polygons[0].area);
  EXPECT_EQ(split->probabilities.channels(), 1);  // the foreground map alone is kept
}

// input.object_diameter: small objects are measured in a first pass, the image is segmented
// again 3x larger, and the polygons come back in the image's own pixels. The affine model is
// pixelwise, so the rescaled outlines must match the plain ones.
TEST_F(SegmentServiceTest, SmallObjectsAreSegmentedAgainLarger) {
  const std::string tile = R"({"channels": 3, "resize": "tile", "tile": 128, "tile_overlap": 32,
                               "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225])";
  const std::string post = R"(, "postprocess": {"instances": "watershed", "min_area": 10})";
  AddModel("plain", tile + "}" + post);
  AddModel("sized", tile + R"(, "object_diameter": 30, "max_scale": 4})" + post);
  SegmentService& s = Start();
  cv::Mat img(180, 240, CV_8UC1, cv::Scalar(200));
  const std::vector<cv::Point> centres = {{30, 30}, {120, 40}, {200, 150}, {60, 140}};
  for (const cv::Point& c : centres) cv::circle(img, c, 5, cv::Scalar(40), cv::FILLED);
  auto plain = SegmentKeepingMap(img, "plain");
  auto sized = SegmentKeepingMap(img, "sized");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  ASSERT_TRUE(sized.ok()) << sized.status().ToString();
  EXPECT_EQ(plain->scale, 1);
  // Median equivalent diameter ~11 px (raster discs of radius 5): 30 / 11 ~ 2.7.
  EXPECT_GT(sized->scale, 2.4);
  EXPECT_LT(sized->scale, 3.1);
  EXPECT_GT(sized->model_inputs, plain->model_inputs * 2) << "both passes' tiles";
  EXPECT_EQ(sized->width, 240);
  EXPECT_EQ(sized->probabilities.size(), img.size());
  ASSERT_EQ(sized->polygons.size(), centres.size());
  ASSERT_EQ(plain->polygons.size(), centres.size());
  for (size_t i = 0; i < centres.size(); ++i) {
    const imaging::ShapeMetrics& a = plain->metrics.at(plain->polygons[i].id);
    const imaging::ShapeMetrics& b = sized->metrics.at(sized->polygons[i].id);
    EXPECT_NEAR(b.area, a.area, 0.15 * a.area) << i;
  }
  // Objects already near the model's size: one pass.
  cv::Mat big(180, 240, CV_8UC1, cv::Scalar(200));
  for (const cv::Point& c : {cv::Point(40, 40), cv::Point(150, 60), cv::Point(100, 130)}) {
    cv::circle(big, c, 15, cv::Scalar(40), cv::FILLED);
  }
  auto one_pass = SegmentKeepingMap(big, "sized");
  ASSERT_TRUE(one_pass.ok()) << one_pass.status().ToString();
  EXPECT_EQ(one_pass->scale, 1);
  EXPECT_EQ(one_pass->polygons.size(), 3u);
  // A request's own scale wins, in one pass; out-of-range scales are refused.
  SegmentRequest two;
  two.model = "sized";
  two.scale = 2.0;
  auto scaled = s.SegmentSync(Png(img), two);
  ASSERT_TRUE(scaled.ok()) << scaled.status().ToString();
  EXPECT_EQ(scaled->scale, 2.0);
  EXPECT_EQ(scaled->polygons.size(), centres.size());
  for (double bad : {0.0, -1.0, 17.0}) {
    two.scale = bad;
    EXPECT_EQ(s.Segment(Png(img), two, [](auto) { FAIL(); }).code(), StatusCode::kInvalidArgument);
  }
}

TEST_F(SegmentServiceTest, SixteenBitKeepsItsRange) {
  AddModel("whole", kWhole);
  SegmentService& s = Start("whole");
  // Both levels are far above 255: truncating to 8 bits would make the image flat.
  cv::Mat img = Disc({160, 120}, {80, 60}, 40, 0, CV_16U);
  img += cv::Scalar(20000);
  auto r = s.SegmentSync(Png(img), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->polygons.size(), 1u);
  EXPECT_NEAR(r->polygons[0].area, M_PI * 40 * 40, 0.05 * M_PI * 40 * 40);
}

TEST_F(SegmentServiceTest, BadInputsGetClearErrors) {
  AddModel("stretch", kStretch);
  std::filesystem::create_directories(root_ / "signal");
  std::ofstream(root_ / "signal" / "model.json")
      << R"({"backend": "test", "task": "signal-segmentation", "reference_shape": [1, 64]})";
  SegmentService& s = Start();
  auto corrupt = s.SegmentSync("\x89PNG\r\n\x1a\nnot really", {});
  EXPECT_EQ(corrupt.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.SegmentSync("", {}).status().code(), StatusCode::kInvalidArgument);
  SegmentRequest unknown;
  unknown.model = "nope";
  EXPECT_EQ(s.Segment("x", unknown, [](auto) { FAIL(); }).code(), StatusCode::kNotFound);
  SegmentRequest wrong_task;
  wrong_task.model = "signal";
  Status st = s.Segment("x", wrong_task, [](auto) { FAIL(); });
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("not an image segmentation model"), std::string::npos);
  SegmentRequest bad_threshold;
  bad_threshold.threshold = 1.5f;
  EXPECT_EQ(s.Segment("x", bad_threshold, [](auto) { FAIL(); }).code(),
            StatusCode::kInvalidArgument);
  // The service still works afterwards.
  EXPECT_TRUE(s.SegmentSync(Png(Disc({100, 100}, {50, 50}, 20)), {}).ok());
  EXPECT_EQ(s.pending(), 0);
}

TEST_F(SegmentServiceTest, ConcurrentImagesShareBatches) {
  AddModel("stretch", kStretch, R"(, "gate": "segment_share")");
  SegmentService& s = Start();
  engine::TestGate& gate = engine::TestGate::Get("segment_share");
  gate.Close();
  constexpr int kImages = 6;
  std::vector<std::promise<Result<SegmentResult>>> promises(kImages);
  for (int i = 0; i < kImages; ++i) {
    ASSERT_TRUE(
        s.Segment(Png(Disc({120, 100}, {60, 50}, 20 + i)), {},
                  [&promises, i](Result<SegmentResult> r) { promises[i].set_value(std::move(r)); })
            .ok());
  }
  ASSERT_TRUE(gate.WaitForWaiters(1, seconds(10)));  // the first batch is held at the gate
  auto queued = [&] {
    auto m = engine_->GetModel("stretch");
    return m->pending + m->in_flight;
  };
  for (int tries = 0; tries < 1000 && queued() < kImages; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // One instance, held at the gate: every image is in the running batch or the queue, so at
  // most two batches remain and one of them holds at least half the images.
  ASSERT_EQ(queued(), kImages);
  gate.Open();
  int largest = 0;
  for (auto& p : promises) {
    auto r = p.get_future().get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    largest = std::max(largest, r->batch_size_used);
  }
  EXPECT_GE(largest, kImages / 2);
}

}  // namespace
}  // namespace seghub::pipeline
