// Engine behaviour through the deterministic test backend. TestGate holds workers inside Run() so
// queue contents at each batch are exactly known.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>

#include "engine/test_backend.h"

namespace seghub::engine {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("seghub_engine_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    backends_.Register(MakeTestBackend());
  }
  void TearDown() override {
    if (engine_) engine_->Shutdown();
    std::filesystem::remove_all(root_);
  }

  void AddModel(const std::string& name, const std::string& json) {
    std::filesystem::create_directories(root_ / name);
    std::ofstream(root_ / name / "model.json") << json;
  }

  Engine& StartEngine(int64_t budget = 1LL << 30, bool load_all = true) {
    EngineOptions o;
    o.model_dir = root_;
    o.memory_budget_bytes = budget;
    o.cpu_threads = 2;
    o.load_all = load_all;
    auto e = Engine::Create(o, &backends_, &registry_);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    engine_->Start();
    EXPECT_TRUE(engine_->WaitReady(seconds(10)));
    return *engine_;
  }

  static InferRequest Req(const std::string& model, const std::string& client, float value,
                          Shape shape = {1, 2, 2}) {
    InferRequest r;
    r.model = model;
    r.client_id = client;
    r.input = Tensor::Zeros(shape);
    for (float& v : r.input.data) v = value;
    return r;
  }

  std::filesystem::path root_;
  BackendRegistry backends_;
  metrics::Registry registry_;
  std::unique_ptr<Engine> engine_;
};

// Records completions in order, from any thread.
struct Log {
  std::mutex mu;
  std::vector<std::pair<std::string, int>> done;  // (tag, batch size)
  std::atomic<int> failures{0};
  std::vector<Status> errors;

  DoneCallback Make(std::string tag) {
    return [this, tag](Result<InferResult> r) {
      std::lock_guard<std::mutex> lock(mu);
      if (r.ok()) {
        done.emplace_back(tag, r->batch_size);
      } else {
        ++failures;
        errors.push_back(r.status());
      }
    };
  }
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu);
    return done.size() + errors.size();
  }
  bool WaitCount(size_t n, milliseconds timeout = milliseconds(10000)) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (Count() < n && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(milliseconds(1));
    }
    return Count() >= n;
  }
};

TEST_F(EngineTest, InferComputesThroughTheBackend) {
  AddModel("affine", R"({"backend":"test","architecture":"affine",
    "arch_params":{"scale":2,"offset":1},"reference_shape":[1,2,2]})");
  auto& engine = StartEngine();
  auto r = engine.Infer(Req("affine", "a", 3.0f));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output.shape, (Shape{1, 2, 2}));
  for (float v : r->output.data) EXPECT_FLOAT_EQ(v, 7.0f);
  EXPECT_EQ(engine.Infer(Req("nope", "a", 1)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine.Infer(Req("affine", "a", 1, {2, 2, 2})).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, FloodingClientDelaysAnotherByAtMostOneBatch) {
  AddModel("m", R"({"backend":"test","arch_params":{"gate":"fair"},"reference_shape":[1,2,2],
    "batching":{"max_batch_size":4,"max_queue_delay_us":0}})");
  auto& gate = TestGate::Get("fair");
  auto& engine = StartEngine();
  gate.Close();
  Log log;
  ASSERT_TRUE(engine.Submit(Req("m", "A", 0), log.Make("A")).ok());
  ASSERT_TRUE(gate.WaitForWaiters(1, seconds(5)));  // batch 1 (A's first) is now running
  for (int i = 1; i < 200; ++i) ASSERT_TRUE(engine.Submit(Req("m", "A", 0), log.Make("A")).ok());
  ASSERT_TRUE(engine.Submit(Req("m", "B", 0), log.Make("B")).ok());
  gate.Open();
  ASSERT_TRUE(log.WaitCount(201));
  // Position of B's completion: within the running batch plus the next two batches (4 each).
  size_t b_pos = 0;
  for (size_t i = 0; i < log.done.size(); ++i) {
    if (log.done[i].first == "B") b_pos = i;
  }
  EXPECT_LT(b_pos, 1u + 2 * 4) << "B finished at position " << b_pos;
  EXPECT_EQ(log.failures.load(), 0);
}

TEST_F(EngineTest, RequestsOfOneModelBatchTogether) {
  AddModel("m", R"({"backend":"test","arch_params":{"gate":"batch"},"reference_shape":[1,2,2],
    "batching":{"max_batch_size":8,"max_queue_delay_us":0}})");
  auto& gate = TestGate::Get("batch");
  auto& engine = StartEngine();
  gate.Close();
  Log log;
  ASSERT_TRUE(engine.Submit(Req("m", "A", 0), log.Make("first")).ok());
  ASSERT_TRUE(gate.WaitForWaiters(1, seconds(5)));
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(engine.Submit(Req("m", "c" + std::to_string(i), 0), log.Make("rest")).ok());
  }
  gate.Open();
  ASSERT_TRUE(log.WaitCount(9));
  EXPECT_EQ(log.done[0].second, 1);
  for (size_t i = 1; i < 9; ++i) EXPECT_EQ(log.done[i].second, 8);
}

TEST_F(EngineTest, TwoInstancesRunConcurrently) {
  AddModel("m", R"({"backend":"test","arch_params":{"gate":"conc"},"reference_shape":[1,2,2],
    "instance_count":2,"batching":{"max_batch_size":1}})");
  auto& gate = TestGate::Get("conc");
  auto& engine = StartEngine();
  gate.Close();
  Log log;
  ASSERT_TRUE(engine.Submit(Req("m", "A", 0), log.Make("1")).ok());
  ASSERT_TRUE(engine.Submit(Req("m", "B", 0), log.Make("2")).ok());
  // Both are inside the backend at once: no model lock.
  EXPECT_TRUE(gate.WaitForWaiters(2, seconds(5)));
  gate.Open();
  EXPECT_TRUE(log.WaitCount(2));
}

TEST_F(EngineTest, FullQueueRefusesAtOnceAndLosesNothingAccepted) {
  AddModel("m", R"({"backend":"test","arch_params":{"gate":"full"},"reference_shape":[1,2,2],
    "batching":{"max_batch_size":2,"max_queue_delay_us":0,"max_queue_size":10}})");
  auto& gate = TestGate::Get("full");
  auto& engine = StartEngine();
  gate.Close();
  Log log;
  ASSERT_TRUE(engine.Submit(Req("m", "A", 0), log.Make("x")).ok());
  ASSERT_TRUE(gate.WaitForWaiters(1, seconds(5)));
  int accepted = 1, refused = 0;
  for (int i = 0; i < 30; ++i) {
    Status s = engine.Submit(Req("m", "A", 0), log.Make("x"));
    if (s.ok()) {
      ++accepted;
    } else {
      ++refused;
      EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
      EXPECT_TRUE(s.retry_after().has_value());
    }
  }
  EXPECT_EQ(accepted, 11);
  EXPECT_EQ(refused, 20);
  gate.Open();
  ASSERT_TRUE(log.WaitCount(static_cast<size_t>(accepted)));
  EXPECT_EQ(log.failures.load(), 0);
  EXPECT_EQ(log.done.size(), static_cast<size_t>(accepted));
}

TEST_F(EngineTest, CancelledAndExpiredRequestsNeverRun) {
  AddModel("m", R"({"backend":"test","arch_params":{"gate":"cancel"},"reference_shape":[1,2,2],
    "batching":{"max_batch_size":4,"max_queue_delay_us":0}})");
  auto& gate = TestGate::Get("cancel");
  auto& engine = StartEngine();
  gate.Close();
  Log log;
  ASSERT_TRUE(engine.Submit(Req("m", "A", 0), log.Make("run")).ok());
  ASSERT_TRUE(gate.WaitForWaiters(1, seconds(5)));
  auto cancelled = Req("m", "B", 0);
  cancelled.cancel = std::make_shared<CancelToken>();
  auto token = cancelled.cancel;
  ASSERT_TRUE(engine.Submit(std::move(cancelled), log.Make("cancelled")).ok());
  auto expired = Req("m", "C", 0);
  expired.deadline = std::chrono::steady_clock::now() + milliseconds(1);
  ASSERT_TRUE(engine.Submit(std::move(expired), log.Make("expired")).ok());
  token->Cancel();
  std::this_thread::sleep_for(milliseconds(5));
  gate.Open();
  ASSERT_TRUE(log.WaitCount(3));
  ASSERT_EQ(log.done.size(), 1u);  // only the first ran
  std::vector<StatusCode> codes;
  for (auto& s : log.errors) codes.push_back(s.code());
  EXPECT_NE(std::find(codes.begin(), codes.end(), StatusCode::kCancelled), codes.end());
  EXPECT_NE(std::find(codes.begin(), codes.end(), StatusCode::kDeadlineExceeded), codes.end());
}

TEST_F(EngineTest, OutOfMemoryRetriesAtHalfSize) {
  AddModel("m", R"({"backend":"test","arch_params":{"gate":"oom","oom_above":2},
    "reference_shape":[1,2,2],"batching":{"max_batch_size":8,"max_queue_delay_us":0}})");
  auto& gate = TestGate::Get("oom");
  auto& engine = StartEngine();
  gate.Close();
  Log log;
  ASSERT_TRUE(engine.Submit(Req("m", "A", 0), log.Make("x")).ok());
  ASSERT_TRUE(gate.WaitForWaiters(1, seconds(5)));
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(engine.Submit(Req("m", "A", 0), log.Make("x")).ok());
  gate.Open();
  ASSERT_TRUE(log.WaitCount(9));
  EXPECT_EQ(log.failures.load(), 0);
  for (auto& [tag, size] : log.done) EXPECT_LE(size, 2);
}

TEST_F(EngineTest, SampleLargerThanTheBudgetIsRefusedClearly) {
  AddModel("m", R"({"backend":"test","reference_shape":[1,2,2],
    "arch_params":{"weight_bytes":1000,"sample_bytes":1000}})");
  auto& engine = StartEngine(/*budget=*/100000);
  // 1x2x2 costs 1000 bytes; 1x200x200 costs 10,000x more: over the budget.
  auto r = engine.Infer(Req("m", "A", 0, {1, 200, 200}));
  EXPECT_EQ(r.status().code(), StatusCode::kPayloadTooLarge);
  EXPECT_NE(r.status().message().find("memory budget"), std::string::npos);
  EXPECT_TRUE(engine.Infer(Req("m", "A", 0)).ok());
}

TEST_F(EngineTest, LruUnloadsTheIdleModelUsedLongestAgoNeverARunningOne) {
  const char* model = R"({"backend":"test","reference_shape":[1,2,2],
    "arch_params":{"weight_bytes":40000000,"sample_bytes":100,"gate":"%s"}})";
  char buf[512];
  for (const char* name : {"m1", "m2", "m3"}) {
    std::snprintf(buf, sizeof buf, model, name);
    AddModel(name, buf);
  }
  auto& engine = StartEngine(/*budget=*/100000000, /*load_all=*/false);  // room for two
  ASSERT_TRUE(engine.Infer(Req("m1", "A", 0)).ok());
  ASSERT_TRUE(engine.Infer(Req("m2", "A", 0)).ok());
  // m2 becomes busy (held at its gate); m1 was used after... no: make m1 most recent but busy.
  auto& gate2 = TestGate::Get("m2");
  std::this_thread::sleep_for(milliseconds(2));
  ASSERT_TRUE(engine.Infer(Req("m1", "A", 0)).ok());  // m1 most recently used, m2 least
  gate2.Close();
  Log log;
  ASSERT_TRUE(engine.Submit(Req("m2", "A", 0), log.Make("m2")).ok());
  ASSERT_TRUE(gate2.WaitForWaiters(1, seconds(5)));  // m2 is running
  ASSERT_TRUE(engine.LoadModel("m3").ok());
  // m2 is the least recently used but busy, so m1 had to go.
  EXPECT_EQ(engine.GetModel("m1")->state, ModelState::kUnloaded);
  EXPECT_EQ(engine.GetModel("m2")->state, ModelState::kReady);
  EXPECT_EQ(engine.GetModel("m3")->state, ModelState::kReady);
  gate2.Open();
  ASSERT_TRUE(log.WaitCount(1));
  EXPECT_EQ(log.failures.load(), 0);
  // Now m2 is idle and least recently used: a request for m1 reloads it in m2's place.
  std::this_thread::sleep_for(milliseconds(2));
  ASSERT_TRUE(engine.Infer(Req("m3", "A", 0)).ok());
  ASSERT_TRUE(engine.Infer(Req("m1", "A", 0)).ok());
  EXPECT_EQ(engine.GetModel("m2")->state, ModelState::kUnloaded);
  EXPECT_EQ(engine.GetModel("m1")->state, ModelState::kReady);
  EXPECT_LE(engine.memory_used(), engine.memory_budget());
}

TEST_F(EngineTest, MetricsDescribeTheWork) {
  AddModel("m", R"({"backend":"test","reference_shape":[1,2,2]})");
  auto& engine = StartEngine();
  ASSERT_TRUE(engine.Infer(Req("m", "A", 0)).ok());
  std::string text = registry_.Render();
  EXPECT_NE(text.find("seghub_inference_requests_total{model=\"m\"} 1"), std::string::npos);
  EXPECT_NE(text.find("seghub_inference_batch_size_count{model=\"m\"}"), std::string::npos);
  EXPECT_NE(text.find("seghub_model_ready{model=\"m\"} 1"), std::string::npos);
  EXPECT_NE(text.find("seghub_memory_budget_bytes"), std::string::npos);
}

TEST_F(EngineTest, ShutdownFailsQueuedWorkInsteadOfHanging) {
  AddModel("m", R"({"backend":"test","arch_params":{"gate":"shut"},"reference_shape":[1,2,2],
    "batching":{"max_batch_size":1}})");
  auto& gate = TestGate::Get("shut");
  auto& engine = StartEngine();
  gate.Close();
  Log log;
  ASSERT_TRUE(engine.Submit(Req("m", "A", 0), log.Make("x")).ok());
  ASSERT_TRUE(gate.WaitForWaiters(1, seconds(5)));
  ASSERT_TRUE(engine.Submit(Req("m", "A", 0), log.Make("x")).ok());
  std::thread opener([&] {
    std::this_thread::sleep_for(milliseconds(20));
    gate.Open();
  });
  engine.Shutdown();
  opener.join();
  EXPECT_EQ(log.Count(), 2u);  // every accepted request got an answer
  EXPECT_EQ(engine.Submit(Req("m", "A", 0), log.Make("x")).code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace seghub::engine
