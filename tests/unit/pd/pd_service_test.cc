// PdService through the engine's deterministic test backend: the windows of every signal go
// through the engine (batched), and the result equals the direct single-call pipeline.
#include "pipeline/pd_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <thread>

#include "engine/test_backend.h"
#include "signals/synthetic.h"

namespace seghub::pipeline {
namespace {

using std::chrono::seconds;

class PdServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("seghub_pd_service_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    backends_.Register(engine::MakeTestBackend());
  }
  void TearDown() override {
    if (engine_) engine_->Shutdown();
    std::filesystem::remove_all(root_);
  }

  void AddModel(const std::string& name, const std::string& json) {
    std::filesystem::create_directories(root_ / name);
    std::ofstream(root_ / name / "model.json") << json;
  }

  // "pd": an identity "network" whose output is already a probability (prob = filtered sample).
  engine::Engine& StartEngine() {
    AddModel("pd", R"({"backend":"test","architecture":"identity","reference_shape":[1,1024],
        "output":{"activation":"none"},
        "batching":{"max_batch_size":32,"max_queue_delay_us":20000,"max_queue_size":100000}})");
    engine::EngineOptions o;
    o.model_dir = root_;
    o.cpu_threads = 2;
    auto e = engine::Engine::Create(o, &backends_, &registry_);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    engine_->Start();
    EXPECT_TRUE(engine_->WaitReady(seconds(10)));
    return *engine_;
  }

  static std::vector<double> Synthetic(size_t length, uint64_t seed) {
    signals::SyntheticOptions o;
    o.length = length;
    o.sample_rate_hz = 1e6;
    o.seed = seed;
    o.max_pulses = std::max<size_t>(1, std::min<size_t>(8, length / 1024));
    auto s = signals::GenerateSynthetic(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s->signal;
  }

  std::filesystem::path root_;
  engine::BackendRegistry backends_;
  metrics::Registry registry_;
  std::unique_ptr<engine::Engine> engine_;
};

TEST_F(PdServiceTest, EqualsDirectPipelineAndBatchesWindows) {
  auto& engine = StartEngine();
  TaskPool pool(2, 16);
  PdService service(&engine, "pd", &pool);
  PdRequest request;
  request.signals = {Synthetic(20000, 1), Synthetic(7000, 2), Synthetic(1024, 3)};
  const signals::Signals raw = request.signals;
  auto out = service.AnalyseBlocking(request);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ((*out)["signals"].size(), 3u);
  // Stride 512, last window aligned to the end: 20000 samples -> 39 windows; 7000 -> 13; 1024 -> 1.
  EXPECT_EQ((*out)["num_windows"], 39 + 13 + 1);
  EXPECT_GT((*out)["max_batch_size"].get<int>(), 1) << "windows were not batched";
  const signals::WindowModel identity = [](const std::vector<float>& batch, size_t, size_t) {
    return Result<std::vector<float>>(batch);
  };
  for (size_t s = 0; s < raw.size(); ++s) {
    auto direct = signals::AnalyseSignal(raw[s], identity);
    ASSERT_TRUE(direct.ok()) << direct.status().ToString();
    direct->signal_index = s;
    auto expected = signals::SignalResultToJson(*direct);
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ((*out)["signals"][s], *expected) << "signal " << s;
  }
  EXPECT_FALSE((*out)["signals"][0]["regions"].empty());
  EXPECT_GE((*out)["timing_ms"]["total"].get<double>(), 0.0);
}

TEST_F(PdServiceTest, ConcurrentRequestsFromManyThreads) {
  auto& engine = StartEngine();
  PdService service(&engine, "pd");  // no pool: caller and engine threads do the work
  const std::vector<double> signal = Synthetic(10000, 4);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      PdRequest r;
      r.signals = {signal, signal};
      auto out = service.AnalyseBlocking(r);
      // Identical signals in one request give identical regions (only the index differs).
      if (out.ok() && (*out)["signals"][0]["regions"] == (*out)["signals"][1]["regions"] &&
          (*out)["signals"][1]["signal_index"] == 1) {
        ok.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6);
}

TEST_F(PdServiceTest, SigmoidActivationIsApplied) {
  // A constant logit of -10 (probability ~4.5e-5) gives no region; +10 makes the whole signal
  // one region, which starts at 0 and is therefore dropped unless min_start is 0.
  AddModel("neg", R"({"backend":"test","architecture":"affine",
      "arch_params":{"scale":0,"offset":-10},"reference_shape":[1,1024]})");
  AddModel("pos", R"({"backend":"test","architecture":"affine",
      "arch_params":{"scale":0,"offset":10},"reference_shape":[1,1024]})");
  auto& engine = StartEngine();
  PdRequest r;
  r.signals = {Synthetic(5000, 5)};
  r.regions.min_start = 0;
  r.regions.min_peak_amplitude = 0.0;
  auto neg = PdService(&engine, "neg").AnalyseBlocking(r);
  ASSERT_TRUE(neg.ok()) << neg.status().ToString();
  EXPECT_TRUE((*neg)["signals"][0]["regions"].empty());
  auto pos = PdService(&engine, "pos").AnalyseBlocking(r);
  ASSERT_TRUE(pos.ok()) << pos.status().ToString();
  ASSERT_EQ((*pos)["signals"][0]["regions"].size(), 1u);
}

TEST_F(PdServiceTest, AverageNegatedRunsEveryWindowTwiceAndAverages) {
  // prob = x + 0.3 on the window and -x + 0.3 on its negated twin: their mean is 0.3 at every
  // sample, whatever the signal. Without averaging the same model follows the signal.
  const char* kAffine = R"({"task":"signal-segmentation","backend":"test","architecture":"affine",
      "arch_params":{"scale":1,"offset":0.3},"reference_shape":[1,1024],
      "output":{"activation":"none"AVG}})";
  std::string avg = kAffine, plain = kAffine;
  avg.replace(avg.find("AVG"), 3, R"(,"average_negated":true)");
  plain.replace(plain.find("AVG"), 3, "");
  AddModel("avg", avg);
  AddModel("plain", plain);
  auto& engine = StartEngine();
  PdRequest r;
  r.signals = {Synthetic(7000, 6), Synthetic(3000, 7)};
  auto out = PdService(&engine, "avg").AnalyseBlocking(r);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)["num_windows"], 13 + 5);  // signal windows; twice as many forwards
  EXPECT_TRUE((*out)["average_negated"].get<bool>());
  for (const auto& signal : (*out)["signals"]) {
    EXPECT_TRUE(signal["regions"].empty());
    for (double p : signal["series"]["probability"]["value"]) ASSERT_NEAR(p, 0.3, 1e-6);
  }
  auto unaveraged = PdService(&engine, "plain").AnalyseBlocking(r);
  ASSERT_TRUE(unaveraged.ok()) << unaveraged.status().ToString();
  EXPECT_FALSE((*unaveraged)["average_negated"].get<bool>());
  const auto& values = (*unaveraged)["signals"][0]["series"]["probability"]["value"];
  EXPECT_GT(*std::max_element(values.begin(), values.end()), 1.0);  // 0.3 + the peak 1.0
}

TEST_F(PdServiceTest, RegionFiltersComeFromTheModelUnlessTheRequestSetsThem) {
  // The identity network again, with a minimum region length no region can reach.
  AddModel("strict", R"({"backend":"test","architecture":"identity","reference_shape":[1,1024],
      "output":{"activation":"none"},"postprocess":{"min_length":100000}})");
  auto& engine = StartEngine();
  PdRequest r;
  r.signals = {Synthetic(20000, 1)};
  auto plain = PdService(&engine, "pd").AnalyseBlocking(r);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  ASSERT_FALSE((*plain)["signals"][0]["regions"].empty());
  auto strict = PdService(&engine, "strict").AnalyseBlocking(r);
  ASSERT_TRUE(strict.ok()) << strict.status().ToString();
  EXPECT_TRUE((*strict)["signals"][0]["regions"].empty());
  r.min_length = 1;
  auto overridden = PdService(&engine, "strict").AnalyseBlocking(r);
  ASSERT_TRUE(overridden.ok()) << overridden.status().ToString();
  EXPECT_EQ((*overridden)["signals"][0]["regions"], (*plain)["signals"][0]["regions"]);
}

TEST_F(PdServiceTest, BadInputsGiveErrors) {
  auto& engine = StartEngine();
  PdService service(&engine, "pd");
  PdRequest empty;
  EXPECT_EQ(service.AnalyseBlocking(empty).status().code(), StatusCode::kInvalidArgument);
  PdRequest too_short;
  too_short.signals = {Synthetic(5000, 6), std::vector<double>(5, 1.0)};
  auto r = service.AnalyseBlocking(too_short);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("signal 1"), std::string::npos) << r.status().message();
  PdService unknown(&engine, "no_such_model");
  PdRequest ok;
  ok.signals = {Synthetic(5000, 7)};
  EXPECT_EQ(unknown.AnalyseBlocking(ok).status().code(), StatusCode::kNotFound);
}

TEST_F(PdServiceTest, QueueFullIsResourceExhausted) {
  // A queue of 4 pending windows cannot take a 38-window signal while the gate holds the worker.
  AddModel("tiny", R"({"backend":"test","architecture":"identity","reference_shape":[1,1024],
      "arch_params":{"gate":"pd_full"},
      "batching":{"max_batch_size":1,"max_queue_delay_us":0,"max_queue_size":4}})");
  auto& engine = StartEngine();
  auto& gate = engine::TestGate::Get("pd_full");
  gate.Close();
  PdService service(&engine, "tiny");
  PdRequest r;
  r.signals = {Synthetic(20000, 8)};
  std::promise<Result<nlohmann::json>> promise;
  auto future = promise.get_future();
  ASSERT_TRUE(
      service.Analyse(r, [&](Result<nlohmann::json> out) { promise.set_value(std::move(out)); })
          .ok());
  gate.Open();  // lets the admitted (and cancelled) windows drain
  auto out = future.get();
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted) << out.status().ToString();
}

}  // namespace
}  // namespace seghub::pipeline
