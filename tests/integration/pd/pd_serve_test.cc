// `seghub serve` with a PD model: POST /api/v1/pd/analyze with the real test signals (multipart
// .npy upload), a synthetic signal (raw float32 body and CSV), bad inputs (4xx, server stays
// healthy), and `seghub pd analyze` printing the same JSON.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "http_client.h"
#include "server_process.h"
#include "signals/synthetic.h"

namespace seghub::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr char kHost[] = "127.0.0.1";
const fs::path kRealSignals = fs::path(SEGHUB_SHARED_DIR) / "data" / "pd" / "test_dataa.npy";

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<double> SyntheticSignal(size_t length) {
  signals::SyntheticOptions o;
  o.length = length;
  o.seed = 42;
  auto s = signals::GenerateSynthetic(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s->signal;
}

std::string Multipart(const std::string& boundary, const std::string& field,
                      const std::string& filename, const std::string& data,
                      const std::map<std::string, std::string>& fields = {}) {
  std::string body;
  for (const auto& [k, v] : fields) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v +
            "\r\n";
  }
  body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field +
          "\"; filename=\"" + filename + "\"\r\nContent-Type: application/octet-stream\r\n\r\n" +
          data + "\r\n";
  return body + "--" + boundary + "--\r\n";
}

class PdServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("seghub_pd_serve_test_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "models" / "pd_unet1d");
    // Untrained (seeded random) small network: the test checks plumbing, not accuracy.
    std::ofstream(dir_ / "models" / "pd_unet1d" / "model.json")
        << R"({"name":"pd_unet1d","task":"signal-segmentation","backend":"torch",
              "format":"seghub","architecture":"unet1d","arch_params":{"base_width":4},
              "input":{"channels":1},"output":{"channels":1,"activation":"sigmoid"},
              "reference_shape":[1,1024],
              "batching":{"max_batch_size":32,"max_queue_delay_us":2000,
                          "max_queue_size":100000}})";
    auto proc = ServerProcess::Start(
        SEGHUB_BINARY,
        {"serve", "--host", kHost, "--port", "0", "--models", (dir_ / "models").string(), "--data",
         (dir_ / "data").string(), "--max-body", "64MiB", "--threads", "1"});
    ASSERT_TRUE(proc.ok()) << proc.status().ToString();
    server_ = std::move(proc).value().release();
    auto port = server_->WaitForPort(seconds(60));
    ASSERT_TRUE(port.ok()) << port.status().ToString() << server_->Output();
    port_ = *port;
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    fs::remove_all(dir_);
  }

  static HttpReply Post(const std::string& target, const std::string& body,
                        const std::string& content_type) {
    auto r = Fetch(kHost, port_, "POST", target, body, {{"Content-Type", content_type}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : HttpReply{};
  }

  static void ExpectHealthy() {
    auto health = Fetch(kHost, port_, "GET", "/health");
    ASSERT_TRUE(health.ok());
    EXPECT_EQ(health->status, 200);
    auto healthz = Fetch(kHost, port_, "GET", "/healthz");
    ASSERT_TRUE(healthz.ok());
    EXPECT_EQ(healthz->status, 200);
    EXPECT_EQ(healthz->Json()["status"], "ok");
  }

  static void ExpectSignalJson(const nlohmann::json& s, size_t index, size_t samples) {
    EXPECT_EQ(s["signal_index"], index);
    EXPECT_EQ(s["num_samples"], samples);
    ASSERT_TRUE(s["regions"].is_array());
    for (const auto& r : s["regions"]) {
      EXPECT_GT(r["start"].get<size_t>(), 0u);  // regions at 0 are dropped
      EXPECT_LE(r["end"].get<size_t>(), samples);
      EXPECT_TRUE(r["snr"].is_null() || r["snr"].get<double>() > 0.0) << r.dump();
    }
    EXPECT_GE(s["stats"]["filtered"]["noise_sigma"].get<double>(), 0.0);
    EXPECT_GT(s["stats"]["raw"]["max_abs"].get<double>(), 0.0);
    EXPECT_FALSE(s["series"]["filtered"]["value"].empty());
    EXPECT_FALSE(s["series"]["probability"]["value"].empty());
  }

  static inline fs::path dir_;
  static inline ServerProcess* server_ = nullptr;
  static inline uint16_t port_ = 0;
};

TEST_F(PdServeTest, RealSignalsAsMultipartNpyUpload) {
  ASSERT_TRUE(fs::exists(kRealSignals)) << kRealSignals;
  const std::string body = Multipart("xYzBoundary", "file", "test_dataa.npy",
                                     ReadFile(kRealSignals), {{"sample_rate", "40000000"}});
  HttpReply r = Post("/api/v1/pd/analyze", body, "multipart/form-data; boundary=xYzBoundary");
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  nlohmann::json j = r.Json();
  ASSERT_EQ(j["signals"].size(), 7u);  // (7, 7920) float64
  for (size_t i = 0; i < 7; ++i) ExpectSignalJson(j["signals"][i], i, 7920);
  EXPECT_EQ(j["signals"][0]["sample_rate_hz"], 40e6);
  EXPECT_EQ(j["num_windows"], 7 * 15);           // ceil((7920 - 1024) / 512) + 1 = 15 per signal
  EXPECT_GT(j["max_batch_size"].get<int>(), 1);  // windows of one request are batched
}

TEST_F(PdServeTest, SyntheticSignalAsRawFloat32AndCsv) {
  const std::vector<double> signal = SyntheticSignal(100000);
  std::string raw(signal.size() * 4, '\0');
  for (size_t i = 0; i < signal.size(); ++i) {
    const float f = static_cast<float>(signal[i]);
    std::memcpy(raw.data() + 4 * i, &f, 4);
  }
  HttpReply r = Post("/api/v1/pd/analyze?threshold=0.5", raw, "application/octet-stream");
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  ASSERT_EQ(r.Json()["signals"].size(), 1u);
  ExpectSignalJson(r.Json()["signals"][0], 0, signal.size());

  // Two signals as CSV columns.
  std::string csv = "a,b\n";
  for (size_t i = 0; i < 5000; ++i) {
    csv += std::to_string(signal[i]) + "," + std::to_string(signal[i + 5000]) + "\n";
  }
  r = Post("/api/v1/pd/analyze?csv_layout=columns", csv, "text/csv");
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  ASSERT_EQ(r.Json()["signals"].size(), 2u);
  ExpectSignalJson(r.Json()["signals"][1], 1, 5000);
}

TEST_F(PdServeTest, BadInputsGive4xxAndTheServerStaysHealthy) {
  struct Case {
    std::string name, target, body, content_type;
  };
  const std::vector<Case> cases = {
      {"corrupt npy", "/api/v1/pd/analyze", std::string("\x93NUMPY\x01\x00garbage", 15),
       "application/x-npy"},
      {"truncated npy", "/api/v1/pd/analyze", ReadFile(kRealSignals).substr(0, 300),
       "application/x-npy"},
      {"empty body", "/api/v1/pd/analyze", "", "application/octet-stream"},
      {"unknown format", "/api/v1/pd/analyze?format=wav", "1,2,3", "text/csv"},
      {"unknown content type", "/api/v1/pd/analyze", "1,2,3", "image/png"},
      {"text in csv", "/api/v1/pd/analyze", "1,2,3\n4,x,6\n", "text/csv"},
      {"raw not a multiple of 4", "/api/v1/pd/analyze", "abcde", "application/octet-stream"},
      {"signal too short", "/api/v1/pd/analyze", "1,2,3\n", "text/csv"},
      {"bad threshold", "/api/v1/pd/analyze?threshold=abc", "1,2,3", "text/csv"},
      {"negative min_snr", "/api/v1/pd/analyze?min_snr=-1", "1,2,3", "text/csv"},
      {"multipart without file", "/api/v1/pd/analyze",
       "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--\r\n",
       "multipart/form-data; boundary=b"},
      {"broken multipart", "/api/v1/pd/analyze", "no boundary here",
       "multipart/form-data; boundary=b"},
  };
  for (const auto& c : cases) {
    HttpReply r = Post(c.target, c.body, c.content_type);
    EXPECT_GE(r.status, 400) << c.name << ": " << r.body;
    EXPECT_LT(r.status, 500) << c.name << ": " << r.body;
    EXPECT_FALSE(r.Json()["error"].get<std::string>().empty()) << c.name;
  }
  auto wrong_method = Fetch(kHost, port_, "GET", "/api/v1/pd/analyze");
  ASSERT_TRUE(wrong_method.ok());
  EXPECT_EQ(wrong_method->status, 405);
  ExpectHealthy();
}

TEST_F(PdServeTest, CliPrintsTheSameSignalsAsTheApi) {
  auto proc = ServerProcess::Start(SEGHUB_BINARY,
                                   {"pd", "analyze", kRealSignals.string(), "--models",
                                    (dir_ / "models").string(), "--compact", "--threads", "1"});
  ASSERT_TRUE(proc.ok());
  auto rc = (*proc)->WaitExit(seconds(120));
  ASSERT_TRUE(rc.ok()) << rc.status().ToString();
  const std::string out = (*proc)->Output();
  ASSERT_EQ(*rc, 0) << out;
  // The JSON is the last line (logging may precede it).
  const size_t brace = out.rfind("\n{");
  nlohmann::json cli =
      nlohmann::json::parse(out.substr(brace == std::string::npos ? 0 : brace), nullptr, false);
  ASSERT_FALSE(cli.is_discarded()) << out.substr(0, 500);
  HttpReply api = Post("/api/v1/pd/analyze", ReadFile(kRealSignals), "application/x-npy");
  ASSERT_EQ(api.status, 200);
  ASSERT_EQ(cli["signals"].size(), 7u);
  // Same network (same seeded weights), same input: same regions and statistics.
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(cli["signals"][i]["regions"].size(), api.Json()["signals"][i]["regions"].size());
    EXPECT_EQ(cli["signals"][i]["stats"], api.Json()["signals"][i]["stats"]);
  }
  ExpectHealthy();
}

}  // namespace
}  // namespace seghub::testing
