// Starts `seghub serve` on a free loopback port and drives the Hub-compatible segmentation API and
// the KServe v2 API over real HTTP: real images (PNG, JPEG, 16-bit TIFF made from a real PNG),
// then bad inputs, each of which must get a clear 4xx while /health stays ok.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "http_client.h"
#include "server_process.h"

namespace seghub::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
constexpr char kHost[] = "127.0.0.1";
const fs::path kData = fs::path(SEGHUB_SHARED_DIR) / "data";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path FirstFile(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ext) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files.empty() ? fs::path() : files.front();
}

std::string Encode(const cv::Mat& m, const std::string& ext) {
  std::vector<uint8_t> buf;
  cv::imencode(ext, m, buf);
  return std::string(buf.begin(), buf.end());
}

uint32_t Crc32(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// A PNG whose header claims 30,000 x 30,000 RGB pixels (a decompression bomb's header).
std::string BombPng() {
  std::string ihdr = "IHDR" + Be32(30000) + Be32(30000) + std::string("\x08\x02\x00\x00\x00", 5);
  return std::string("\x89PNG\r\n\x1a\n", 8) + Be32(13) + ihdr + Be32(Crc32(ihdr)) + Be32(0) +
         "IDAT" + Be32(Crc32("IDAT"));
}

struct Part {
  std::string name, filename, data;
};

std::string Multipart(const std::vector<Part>& parts, const std::string& boundary) {
  std::string body;
  for (const Part& p : parts) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
    if (!p.filename.empty()) body += "; filename=\"" + p.filename + "\"";
    body += "\r\n\r\n" + p.data + "\r\n";
  }
  return body + "--" + boundary + "--\r\n";
}

class SegmentServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("seghub_segment_serve_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    // "dark": dark objects on a bright background are foreground; "bright": the opposite.
    // Each model's offset puts its decision boundary at the image's Otsu threshold (channel 0),
    // so foreground is exactly "brighter (darker) than Otsu" and the objects can be counted
    // independently below.
    AddModel("bright", 1.0, OffsetFor(NucleiPng(), 1.0), "none");
    AddModel("dark", -1.0, OffsetFor(SpheroidJpeg(), -1.0), "stretch");
    auto proc = ServerProcess::Start(
        SEGHUB_BINARY,
        {"serve", "--host", kHost, "--port", "0", "--models", (dir_ / "models").string(), "--data",
         (dir_ / "data").string(), "--max-body", "8MiB", "--max-image", "4MiB", "--threads", "2"});
    ASSERT_TRUE(proc.ok()) << proc.status().ToString();
    server_ = std::move(proc).value().release();
    auto port = server_->WaitForPort(std::chrono::seconds(60));
    ASSERT_TRUE(port.ok()) << port.status().ToString() << "\n" << server_->Output();
    port_ = *port;
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(dir_);
  }
  static fs::path NucleiPng() { return FirstFile(kData / "nuclei/u2os/test/images", ".png"); }
  static fs::path SpheroidJpeg() { return FirstFile(kData / "spheroids", ".jpg"); }
  static double Otsu(const fs::path& p) {
    cv::Mat img = cv::imread(p.string(), cv::IMREAD_COLOR), red;
    cv::extractChannel(img, red, 2);  // OpenCV reads BGR; the model sees RGB channel 0
    cv::Mat ignored;
    return cv::threshold(red, ignored, 0, 255, cv::THRESH_OTSU);
  }
  // logit = scale * (v/255 - mean) / std + offset is 0 halfway between Otsu and the next level.
  static double OffsetFor(const fs::path& p, double scale) {
    double t = (Otsu(p) + 0.5) / 255.0;
    return -scale * (t - 0.485) / 0.229;
  }
  static void AddModel(const std::string& name, double scale, double offset,
                       const std::string& resize) {
    fs::create_directories(dir_ / "models" / name);
    std::ofstream(dir_ / "models" / name / "model.json") << json{
        {"backend", "test"},
        {"architecture", "affine"},
        {"description", "deterministic test model"},
        {"arch_params", {{"scale", scale}, {"offset", offset}}},
        {"recommended_threshold", 0.5},
        {"input",
         {{"channels", 3},
          {"size", {256, 256}},
          {"resize", resize},
          {"mean", {0.485, 0.456, 0.406}},
          {"std", {0.229, 0.224, 0.225}}}}}.dump();
  }

  HttpReply Call(const std::string& method, const std::string& target, const std::string& body = "",
                 const std::map<std::string, std::string>& headers = {}) {
    auto r = Fetch(kHost, port_, method, target, body, headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : HttpReply{};
  }
  HttpReply PostForm(const std::string& target, const std::vector<Part>& parts) {
    return Call("POST", target, Multipart(parts, "seghubTestBoundary"),
                {{"Content-Type", "multipart/form-data; boundary=seghubTestBoundary"}});
  }
  void ExpectHealthy() {
    HttpReply h = Call("GET", "/health");
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.Json().value("status", ""), "healthy");
  }
  // Checks the Hub polygon JSON and seghub's per-object metrics.
  // With detect_holes=false objects are filled, so background inside them lowers their confidence.
  static void CheckPolygons(const json& body, int width, int height, bool holes = true) {
    ASSERT_TRUE(body.value("success", false)) << body.dump();
    EXPECT_EQ(body["image_size"]["width"], width);
    EXPECT_EQ(body["image_size"]["height"], height);
    ASSERT_FALSE(body["polygons"].empty());
    for (const json& p : body["polygons"]) {
      ASSERT_GE(p["points"].size(), 3u);
      for (const json& pt : p["points"]) {
        EXPECT_GE(pt["x"].get<double>(), -1);
        EXPECT_LE(pt["x"].get<double>(), width);
        EXPECT_GE(pt["y"].get<double>(), -1);
        EXPECT_LE(pt["y"].get<double>(), height);
      }
      // The mean probability over a thresholded object.
      EXPECT_GE(p["confidence"].get<double>(), holes ? 0.5 : 0.0);
      EXPECT_LE(p["confidence"].get<double>(), 1.0);
      if (p["type"] == "internal") {
        EXPECT_TRUE(p.contains("parent_id"));
        continue;
      }
      EXPECT_GE(p["area"].get<double>(), 50.0);  // the default minimum area
      if (!p.contains("metrics")) continue;      // degenerate shapes have none
      const json& m = p["metrics"];
      EXPECT_GT(m["Area"].get<double>(), 0);
      EXPECT_LE(m["Area"].get<double>(), p["area"].get<double>() + 1e-6);  // holes subtract
      EXPECT_GT(m["Circularity"].get<double>(), 0);
      EXPECT_LE(m["Circularity"].get<double>(), 1.0);
      EXPECT_LE(m["Solidity"].get<double>(), 1.0 + 1e-9);
    }
  }

  static fs::path dir_;
  static ServerProcess* server_;
  static uint16_t port_;
};

fs::path SegmentServeTest::dir_;
ServerProcess* SegmentServeTest::server_ = nullptr;
uint16_t SegmentServeTest::port_ = 0;

TEST_F(SegmentServeTest, RealImagesGetPolygonsAndMetrics) {
  ASSERT_FALSE(NucleiPng().empty());
  const std::string png = ReadFile(NucleiPng());
  cv::Mat grey = cv::imread(NucleiPng().string(), cv::IMREAD_GRAYSCALE);
  HttpReply r = PostForm("/api/v1/segment",
                         {{"file", NucleiPng().filename().string(), png}, {"model", "", "bright"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json body = r.Json();
  CheckPolygons(body, grey.cols, grey.rows);
  EXPECT_EQ(body["model_used"], "bright");
  EXPECT_EQ(body["threshold_used"], 0.5);
  // Independent count: 8-connected components above Otsu with at least 50 px.
  cv::Mat mask = grey > Otsu(NucleiPng()), labels, stats, centroids;
  int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8);
  int expected = 0;
  for (int i = 1; i < n; ++i) expected += stats.at<int>(i, cv::CC_STAT_AREA) >= 60;
  int externals = 0;
  for (const json& p : body["polygons"]) externals += p["type"] == "external";
  EXPECT_NEAR(externals, expected, 0.1 * expected + 2);

  // The same pixels as a 16-bit TIFF far above 8-bit range: the full range is kept.
  cv::Mat wide;
  grey.convertTo(wide, CV_16U, 200.0, 1000.0);
  HttpReply tiff = PostForm("/api/v1/segment",
                            {{"file", "wide.tif", Encode(wide, ".tif")}, {"model", "", "bright"}});
  ASSERT_EQ(tiff.status, 200) << tiff.body;
  CheckPolygons(tiff.Json(), grey.cols, grey.rows);

  // A real bright-field spheroid photo (JPEG) with the dark-object model and µm metrics.
  cv::Mat photo = cv::imread(SpheroidJpeg().string());
  HttpReply jpg = PostForm("/api/v1/segment", {{"file", "s.jpg", ReadFile(SpheroidJpeg())},
                                               {"model", "", "dark"},
                                               {"threshold", "", "0.5"},
                                               {"pixel_size", "", "0.5"},
                                               {"detect_holes", "", "false"}});
  ASSERT_EQ(jpg.status, 200) << jpg.body;
  CheckPolygons(jpg.Json(), photo.cols, photo.rows, /*holes=*/false);
  const json jpg_body = jpg.Json();
  for (const json& p : jpg_body["polygons"]) {
    EXPECT_EQ(p["type"], "external");  // detect_holes=false
    if (p.contains("metrics")) {
      EXPECT_EQ(p["metrics_unit"], "um");
      EXPECT_NEAR(p["metrics"]["Area"].get<double>(), p["area"].get<double>() * 0.25,
                  1e-6 * p["area"].get<double>() + 1e-6);
    }
  }
  // Raw body, parameters in the query string.
  HttpReply raw = Call("POST", "/api/v1/segment?model=bright&metrics=false", png,
                       {{"Content-Type", "image/png"}});
  ASSERT_EQ(raw.status, 200) << raw.body;
  EXPECT_EQ(raw.Json()["polygons"].size(), body["polygons"].size());
  EXPECT_FALSE(raw.Json()["polygons"][0].contains("metrics"));
  // scale: the model sees the image twice as large; outlines stay in the image's own pixels.
  HttpReply scaled = PostForm(
      "/api/v1/segment", {{"file", "n.png", png}, {"model", "", "bright"}, {"scale", "", "2"}});
  ASSERT_EQ(scaled.status, 200) << scaled.body;
  EXPECT_EQ(scaled.Json()["scale"], 2.0);
  CheckPolygons(scaled.Json(), grey.cols, grey.rows);
  ExpectHealthy();
}

TEST_F(SegmentServeTest, OtherExportFormats) {
  const std::string png = ReadFile(NucleiPng());
  json hub = PostForm("/api/v1/segment", {{"file", "n.png", png}, {"model", "", "bright"}}).Json();
  size_t externals = 0;
  for (const json& p : hub["polygons"]) externals += p["type"] == "external";
  HttpReply coco = PostForm(
      "/api/v1/segment", {{"file", "n.png", png}, {"model", "", "bright"}, {"format", "", "coco"}});
  ASSERT_EQ(coco.status, 200) << coco.body;
  EXPECT_EQ(coco.Json()["annotations"].size(), externals);
  HttpReply labels = PostForm(
      "/api/v1/segment",
      {{"file", "n\"\r\nX: y.png", png}, {"model", "", "bright"}, {"format", "", "labels"}});
  ASSERT_EQ(labels.status, 200) << labels.body;
  EXPECT_EQ(labels.Header("Content-Type"), "image/png");
  EXPECT_EQ(labels.Header("Content-Disposition").find('\n'), std::string::npos);
  cv::Mat decoded = cv::imdecode(std::vector<uint8_t>(labels.body.begin(), labels.body.end()),
                                 cv::IMREAD_UNCHANGED);
  ASSERT_EQ(decoded.type(), CV_16UC1);
  double max_label = 0;
  cv::minMaxLoc(decoded, nullptr, &max_label);
  EXPECT_EQ(static_cast<size_t>(max_label), externals);
  HttpReply roi =
      PostForm("/api/v1/segment",
               {{"file", "n.png", png}, {"model", "", "bright"}, {"format", "", "imagej"}});
  ASSERT_EQ(roi.status, 200);
  EXPECT_EQ(roi.body.substr(0, 2), "PK");  // a zip
  HttpReply bad = PostForm(
      "/api/v1/segment", {{"file", "n.png", png}, {"format", "", "pdf"}, {"model", "", "bright"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.Json().value("error", "").find("geojson"), std::string::npos);
}

TEST_F(SegmentServeTest, BatchReportsEachImage) {
  HttpReply r = PostForm("/api/v1/batch-segment",
                         {{"files", "a.png", ReadFile(NucleiPng())},
                          {"files", "broken.png", std::string("\x89PNG\r\n\x1a\ngarbage", 16)},
                          {"files", "c.jpg", ReadFile(SpheroidJpeg())},
                          {"model", "", "dark"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json b = r.Json();
  EXPECT_EQ(b["batch_size"], 3);
  EXPECT_EQ(b["successful_count"], 2);
  EXPECT_EQ(b["failed_count"], 1);
  EXPECT_FALSE(b["success"].get<bool>());
  ASSERT_EQ(b["results"].size(), 3u);
  EXPECT_EQ(b["results"][1]["filename"], "broken.png");
  EXPECT_FALSE(b["results"][1]["success"].get<bool>());
  EXPECT_FALSE(b["results"][1]["error"].get<std::string>().empty());
  EXPECT_EQ(b["results"][2]["batch_index"], 2);
  EXPECT_TRUE(b["results"][2]["success"].get<bool>());
  ExpectHealthy();
}

TEST_F(SegmentServeTest, BadInputsGetClear4xxAndTheServerStaysHealthy) {
  struct Case {
    std::vector<Part> parts;
    int status;
    std::string message_part;
  };
  const std::string png = ReadFile(NucleiPng());
  std::vector<Case> cases = {
      {{{"file", "x.png", std::string("\x89PNG\r\n\x1a\nnot an image", 20)}}, 400, ""},
      {{{"file", "empty.png", ""}}, 400, "empty"},
      {{{"file", "bomb.png", BombPng()}}, 413, "pixels"},
      {{{"file", "a.png", png}, {"threshold", "", "abc"}}, 400, "threshold"},
      {{{"file", "a.png", png}, {"threshold", "", "1.5"}}, 400, "threshold"},
      {{{"file", "a.png", png}, {"detect_holes", "", "maybe"}}, 400, "detect_holes"},
      {{{"file", "a.png", png}, {"scale", "", "0"}}, 400, "scale"},
      {{{"file", "a.png", png}, {"scale", "", "40"}}, 400, "scale"},
      {{{"file", "a.png", png}, {"model", "", "nope"}}, 400, "available"},
      {{{"model", "", "dark"}}, 400, "file"},
      {{{"file", "big.png", std::string(5 << 20, 'x')}}, 413, ""},
  };
  for (const Case& c : cases) {
    HttpReply r = PostForm("/api/v1/segment", c.parts);
    EXPECT_EQ(r.status, c.status) << r.body;
    std::string error = r.Json().value("error", "");
    EXPECT_FALSE(error.empty()) << r.body;
    EXPECT_NE(error.find(c.message_part), std::string::npos) << error;
    ExpectHealthy();
  }
  HttpReply not_multipart = Call("POST", "/api/v1/segment", "", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(not_multipart.status, 400);
  // A body over --max-body is refused before it is read.
  HttpReply huge = PostForm("/api/v1/segment", {{"file", "huge.png", std::string(9 << 20, 'x')}});
  EXPECT_EQ(huge.status, 413);
  ExpectHealthy();
}

TEST_F(SegmentServeTest, ModelsStatusHealthAndMetricsEndpoints) {
  json models = Call("GET", "/api/v1/models").Json();
  ASSERT_TRUE(models["models"].contains("dark")) << models.dump();
  EXPECT_FALSE(models["models"]["dark"]["has_pretrained"].get<bool>());
  EXPECT_EQ(models["models"]["dark"]["recommended_threshold"], 0.5);
  json health = Call("GET", "/api/v1/health").Json();
  EXPECT_EQ(health["status"], "healthy");
  EXPECT_EQ(health["service"], "seghub");
  EXPECT_TRUE(health["models_failed"].empty());
  json status = Call("GET", "/api/v1/status").Json();
  EXPECT_TRUE(status.contains("queue_length"));
  EXPECT_TRUE(status["available"].get<bool>());

  json square = {{"contour", {{0, 0}, {100, 0}, {100, 100}, {0, 100}}},
                 {"holes", {{{40, 40}, {60, 40}, {60, 60}, {40, 60}}}}};
  HttpReply m = Call("POST", "/api/calculate-metrics", square.dump());
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_NEAR(m.Json()["Area"].get<double>(), 10000 - 400, 1e-6);
  HttpReply scaled = Call("POST", "/api/calculate-metrics?pixel_size=2", square.dump());
  EXPECT_NEAR(scaled.Json()["Area"].get<double>(), 4 * 9600, 1e-6);
  HttpReply batch =
      Call("POST", "/api/batch-calculate-metrics", json::array({square, {{"contour", 5}}}).dump());
  ASSERT_EQ(batch.status, 200) << batch.body;
  EXPECT_NEAR(batch.Json()[0]["Area"].get<double>(), 9600, 1e-6);
  EXPECT_TRUE(batch.Json()[1].contains("error"));
  EXPECT_EQ(Call("POST", "/api/calculate-metrics", "{nope").status, 400);
  std::string metrics = Call("GET", "/metrics").body;
  EXPECT_NE(metrics.find("seghub_segment_images_total"), std::string::npos);
}

TEST_F(SegmentServeTest, KserveV2InferOnRawTensors) {
  json meta = Call("GET", "/v2/models/dark").Json();
  EXPECT_EQ(meta["name"], "dark");
  EXPECT_EQ(meta["inputs"][0]["datatype"], "FP32");
  EXPECT_EQ(Call("GET", "/v2/models/dark/ready").status, 200);
  EXPECT_EQ(Call("GET", "/v2/models/nope").status, 404);
  EXPECT_EQ(Call("GET", "/v2").Json()["name"], "seghub");
  std::vector<float> data(2 * 3 * 4 * 4);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>(i) / 10.0f;
  json req = {
      {"id", "42"},
      {"inputs",
       {{{"name", "input"}, {"datatype", "FP32"}, {"shape", {2, 3, 4, 4}}, {"data", data}}}}};
  HttpReply r = Call("POST", "/v2/models/bright/infer", req.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  json out = r.Json();
  EXPECT_EQ(out["id"], "42");
  EXPECT_EQ(out["model_name"], "bright");
  EXPECT_EQ(out["outputs"][0]["shape"], json({2, 3, 4, 4}));
  double offset = OffsetFor(NucleiPng(), 1.0);
  for (size_t i = 0; i < data.size(); ++i) {  // the affine test model: x * 1 + offset
    ASSERT_NEAR(out["outputs"][0]["data"][i].get<double>(), data[i] + offset, 1e-4);
  }
  req["inputs"][0]["shape"] = {2, 3, 4, 5};
  EXPECT_EQ(Call("POST", "/v2/models/bright/infer", req.dump()).status, 400);
  EXPECT_EQ(Call("POST", "/v2/models/bright/infer", "[]").status, 400);
  ExpectHealthy();
}

}  // namespace
}  // namespace seghub::testing
